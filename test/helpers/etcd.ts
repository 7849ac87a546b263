// Starts a real etcd server on free loopback ports with a temp data dir, as the tests and
// benchmarks need. Installed from Debian's etcd-server by scripts/test.sh when missing.
import { spawn, type ChildProcess } from 'node:child_process';
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

export async function startEtcd(opts: { name?: string; unsafeNoFsync?: boolean } = {}): Promise<EtcdServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-etcd-'));
  for (let attempt = 0; ; attempt++) {
    const clientPort = await freePort();
    const peerPort = await freePort();
    const name = opts.name ?? 'n1';
    const endpoint = `http://127.0.0.1:${clientPort}`;
    const args = [
      '--name', name, '--data-dir', dataDir,
      '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
      '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-cluster', `${name}=http://127.0.0.1:${peerPort}`,
      '--log-level', 'error',
    ];
    if (opts.unsafeNoFsync) args.push('--unsafe-no-fsync');
    const proc = spawn(process.env.ETCD_BIN ?? 'etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const up = await waitHealthy(endpoint, proc, 15_000);
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

async function waitHealthy(endpoint: string, proc: ChildProcess, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) return false;
    try {
      const res = await fetch(`${endpoint}/health`);
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
