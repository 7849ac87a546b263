// A bounded HTTP load generator for loopback targets (or addresses of a LAN the caller's own
// cluster made, inside its network namespaces): GET / at a fixed rate, each request on a
// fresh connection (so every request goes through the proxy's endpoint choice), until stopped
// or maxRequests were sent. Records every failure (status, reset, timeout) and each latency.
import { request } from 'node:http';
import { containsCidr, mustParseCidr } from '../../proto/api/cidr.js';

export interface LoadResult {
  sent: number;
  ok: number;
  failures: string[];
  latenciesMs: number[];
  /** Who answered when (ms since the epoch), from the `pod` field of JSON replies. */
  servedBy: { at: number; pod: string }[];
}

export interface Load {
  stop(): Promise<LoadResult>;
}

function once(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { Connection: 'close' }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function podOf(body: string): string | undefined {
  try {
    const v = JSON.parse(body) as { pod?: unknown };
    return typeof v.pod === 'string' ? v.pod : undefined;
  } catch {
    // Not the sample image's JSON: nothing to attribute.
    return undefined;
  }
}

/** Whether `url` goes to loopback or into `lan` (a CIDR of the caller's own node namespaces). */
export function loadTargetAllowed(url: string, lan?: string): boolean {
  const host = new URL(url).hostname;
  if (/^127\.\d+\.\d+\.\d+$/.test(host)) return true;
  return lan !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(host) && containsCidr(mustParseCidr(lan), mustParseCidr(`${host}/32`));
}

export function startLoad(url: string, opts: { everyMs: number; maxRequests: number; timeoutMs?: number; lan?: string }): Load {
  if (!loadTargetAllowed(url, opts.lan)) throw new Error(`load only goes to loopback or the cluster's own LAN ${opts.lan ?? ''}, not ${url}`);
  const result: LoadResult = { sent: 0, ok: 0, failures: [], latenciesMs: [], servedBy: [] };
  const inFlight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    if (result.sent >= opts.maxRequests) return;
    result.sent++;
    const started = performance.now();
    const p = once(url, opts.timeoutMs ?? 5000).then(
      (body) => {
        result.ok++;
        result.latenciesMs.push(performance.now() - started);
        const pod = podOf(body);
        if (pod) result.servedBy.push({ at: Date.now(), pod });
      },
      (e: unknown) => {
        result.failures.push(`${new Date().toISOString()} ${e instanceof Error ? e.message : String(e)}`);
      },
    ).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }, opts.everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return result;
    },
  };
}
