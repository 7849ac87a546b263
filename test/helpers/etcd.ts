// Starts a real etcd server on free loopback ports with a temp data dir, as the tests and
// benchmarks need. Installed from Debian's etcd-server by scripts/test.sh when missing.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface EtcdServer {
  endpoint: string;
  clientPort: number;
  dataDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** etcd with TLS on both ports, client certificates required (as `skiff up` runs it). */
export interface EtcdTlsFiles {
  certFile: string;
  keyFile: string;
  /** --trusted-ca-file: the CA of client (and peer) certificates. */
  caFile: string;
  /** PEM texts of a client that may talk to it, for the health check. */
  client: { ca: string; cert: string; key: string };
}

export async function startEtcd(opts: { name?: string; unsafeNoFsync?: boolean; tls?: EtcdTlsFiles } = {}): Promise<EtcdServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-etcd-'));
  for (let attempt = 0; ; attempt++) {
    const clientPort = await freePort();
    const peerPort = await freePort();
    const name = opts.name ?? 'n1';
    const scheme = opts.tls ? 'https' : 'http';
    const endpoint = `${scheme}://127.0.0.1:${clientPort}`;
    const t = opts.tls;
    const args = [
      '--name', name, '--data-dir', dataDir,
      '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
      '--listen-peer-urls', `${scheme}://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls', `${scheme}://127.0.0.1:${peerPort}`,
      '--initial-cluster', `${name}=${scheme}://127.0.0.1:${peerPort}`,
      '--log-level', 'error',
      ...(t ? [
        '--cert-file', t.certFile, '--key-file', t.keyFile, '--client-cert-auth', '--trusted-ca-file', t.caFile,
        '--peer-cert-file', t.certFile, '--peer-key-file', t.keyFile, '--peer-client-cert-auth', '--peer-trusted-ca-file', t.caFile,
      ] : []),
    ];
    if (opts.unsafeNoFsync) args.push('--unsafe-no-fsync');
    const proc = spawn(process.env.ETCD_BIN ?? 'etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const up = await waitHealthy(endpoint, proc, 15_000, opts.tls?.client);
    if (!up) {
      proc.kill('SIGKILL');
      if (attempt < 3 && /address already in use/.test(stderr)) continue;
      await rm(dataDir, { recursive: true, force: true });
      throw new Error(`etcd did not start on ${endpoint}: ${stderr.slice(-2000) || 'no output'} (is etcd installed? scripts/test.sh installs etcd-server)`);
    }
    return {
      endpoint,
      clientPort,
      dataDir,
      process: proc,
      async stop() {
        if (proc.exitCode === null && proc.signalCode === null) {
          const exited = new Promise((r) => proc.once('exit', r));
          proc.kill('SIGTERM');
          await exited;
        }
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
}

function httpsOk(url: string, tls: { ca: string; cert: string; key: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { ...tls, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function waitHealthy(endpoint: string, proc: ChildProcess, timeoutMs: number, tls?: { ca: string; cert: string; key: string }): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) return false;
    try {
      if (tls ? await httpsOk(`${endpoint}/health`, tls) : (await fetch(`${endpoint}/health`)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
