// The host-lb process of a `skiff up --nodes N` cluster: keeps the host's loopback forwarding
// of LoadBalancer ports (rules.ts) in step with the Services, polling the API once a second
// (a lost connection only delays the next write; the rules in place keep working meanwhile).
// It writes the table on start, so `skiff up` can wait for it, and removes it when stopped;
// `skiff down` removes it too in case the process died.
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { unwrapAs } from '../../../proto/api/kinds.js';
import type { ClientTls } from '../../../proto/api/tls-client.js';
import { Api } from '../../client.js';
import { lanNodes, type Lan } from '../lan.js';
import { forwardsOf, hostLbRuleset, hostLbTable } from './rules.js';

const run = promisify(execFile);

/** Runs an nft script from stdin. */
export function nftScript(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('nft', ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.once('error', reject);
    p.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`nft -f: exit ${code ?? 'signal'}: ${err.trim()}`))));
    p.stdin.end(text);
  });
}

export async function hostLbTableExists(lan: Lan): Promise<boolean> {
  return run('nft', ['list', 'table', 'ip', hostLbTable(lan.prefix)]).then(() => true, () => false);
}

/** Deletes the table; true when there was one. */
export async function removeHostLb(lan: Lan): Promise<boolean> {
  if (!(await hostLbTableExists(lan))) return false;
  await run('nft', ['delete', 'table', 'ip', hostLbTable(lan.prefix)]);
  return true;
}

export interface ForwarderOptions {
  lan: Lan;
  server: string;
  tokenFile: string;
  /** The cluster CA the control plane's certificate is checked against. */
  tls: ClientTls;
  intervalMs?: number;
  log: (line: string) => void;
  signal: AbortSignal;
}

export async function runForwarder(o: ForwarderOptions): Promise<void> {
  const table = hostLbTable(o.lan.prefix);
  const nodes = lanNodes(o.lan).map((n) => n.address);
  // A packet from 127.0.0.1 rerouted to the bridge by the DNAT must be routable there (the masquerade fixes its source after).
  await run('sysctl', ['-q', '-w', `net.ipv4.conf.${o.lan.bridge}.route_localnet=1`]);
  let applied = hostLbRuleset(table, o.lan.bridge, []);
  await nftScript(applied);
  o.log(`table ip ${table} written; forwarding 127.0.0.1 LoadBalancer ports to ${nodes.join(', ')}`);
  const token = (await readFile(o.tokenFile, 'utf8')).trim().split(',')[0] ?? '';
  const api = new Api({ server: o.server, token, tls: o.tls, timeoutMs: 5000 });
  let lastError = '';
  try {
    while (!o.signal.aborted) {
      try {
        const services = (await api.list({ kind: 'Service', namespace: '' })).items.map((r) => unwrapAs('Service', r));
        const forwards = forwardsOf(services, nodes);
        const text = hostLbRuleset(table, o.lan.bridge, forwards);
        if (text !== applied) {
          await nftScript(text);
          applied = text;
          o.log(`forwarding ${forwards.length ? forwards.map((f) => `${f.protocol}/${f.port} -> ${f.targets.join(',')}`).join('; ') : 'nothing'}`);
        }
        lastError = '';
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        if (msg !== lastError) o.log(`cannot update the forwarding (keeping the rules in place): ${msg}`);
        lastError = msg;
      }
      await new Promise<void>((r) => {
        // One listener per wait, removed when the wait ends, so they do not pile up on the signal.
        const done = (): void => {
          clearTimeout(t);
          o.signal.removeEventListener('abort', done);
          r();
        };
        const t = setTimeout(done, o.intervalMs ?? 1000);
        o.signal.addEventListener('abort', done, { once: true });
      });
    }
  } finally {
    api.close();
    await removeHostLb(o.lan).catch((e: Error) => o.log(`cannot remove table ip ${table}: ${e.message}`));
  }
}
