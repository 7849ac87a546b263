// Waiting for a component to answer; a process that exits meanwhile fails the wait at once
// with the end of its log.
import { alive, sleep } from './processes.js';
import { request as httpsRequest } from 'node:https';

export async function waitFor(
  what: string, pid: number | undefined, check: () => Promise<boolean>, timeoutMs: number, tail: () => Promise<string>,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (pid !== undefined && !alive(pid)) throw new Error(`${what} exited while starting; end of its log:\n${await tail()}`);
    if (Date.now() > end) throw new Error(`${what} not healthy within ${timeoutMs / 1000}s; end of its log:\n${await tail()}`);
    await sleep(200);
  }
}

/** The JSON body of a GET, or undefined when it does not answer 2xx with JSON in time. */
export async function httpJson<T>(url: string): Promise<T | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    // Not answering (yet) is an answer here: the caller retries or reports it.
    return undefined;
  }
}

export async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** httpOk over HTTPS with a CA and a client certificate (etcd with --client-cert-auth). */
export function httpsOk(url: string, tls: { ca: string; cert: string; key: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsRequest(url, { ...tls, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
