// A 3-member etcd cluster on loopback (see shared/docs/runtime-recipes.md) whose members can be
// killed, restarted on their data dirs, paused and resumed by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';

interface Member {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  proc: ChildProcess | undefined;
  paused: boolean;
}

export class EtcdCluster {
  private constructor(
    private readonly members: Member[],
    private readonly root: string,
  ) {}

  static async start(size = 3): Promise<EtcdCluster> {
    const root = await mkdtemp(join(tmpdir(), 'skiff-chaos-etcd-'));
    const members: Member[] = [];
    for (let i = 0; i < size; i++) {
      members.push({ name: `e${i}`, clientPort: await freePort(), peerPort: await freePort(), dataDir: join(root, `e${i}`), proc: undefined, paused: false });
    }
    const c = new EtcdCluster(members, root);
    for (const m of members) c.spawn(m, 'new');
    for (const m of members) await c.waitHealthy(m, 30_000);
    return c;
  }

  get endpoints(): { host: string; port: number }[] {
    return this.members.map((m) => ({ host: '127.0.0.1', port: m.clientPort }));
  }

  get size(): number {
    return this.members.length;
  }

  private spawn(m: Member, state: 'new' | 'existing'): void {
    const cluster = this.members.map((x) => `${x.name}=http://127.0.0.1:${x.peerPort}`).join(',');
    const url = `http://127.0.0.1:${m.clientPort}`;
    m.proc = spawn(process.env.ETCD_BIN ?? 'etcd', [
      '--name', m.name, '--data-dir', m.dataDir, '--listen-client-urls', url, '--advertise-client-urls', url,
      '--listen-peer-urls', `http://127.0.0.1:${m.peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peerPort}`,
      '--initial-cluster', cluster, '--initial-cluster-state', state, '--initial-cluster-token', 'skiff-chaos',
      '--log-level', 'error',
    ], { stdio: ['ignore', 'ignore', 'ignore'] });
    m.paused = false;
  }

  private async waitHealthy(m: Member, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      try {
        if ((await fetch(`http://127.0.0.1:${m.clientPort}/health`, { signal: AbortSignal.timeout(1000) })).ok) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`etcd member ${m.name} not healthy after ${timeoutMs} ms`);
  }

  /** Index of the member that leads now (asked of each live member), or -1. */
  async leader(): Promise<number> {
    for (const m of this.members) {
      if (!m.proc || m.paused) continue;
      try {
        const res = await fetch(`http://127.0.0.1:${m.clientPort}/v3/maintenance/status`, {
          method: 'POST', body: '{}', signal: AbortSignal.timeout(1000),
        });
        const st = (await res.json()) as { header?: { member_id?: string }; leader?: string };
        if (st.leader && st.leader !== '0') {
          // Ask again of the leader itself: its own member id equals the leader field.
          for (let i = 0; i < this.members.length; i++) {
            const x = this.members[i]!;
            if (!x.proc || x.paused) continue;
            const r2 = await fetch(`http://127.0.0.1:${x.clientPort}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) });
            const s2 = (await r2.json()) as { header?: { member_id?: string } };
            if (s2.header?.member_id === st.leader) return i;
          }
        }
      } catch {
        // try the next member
      }
    }
    return -1;
  }

  async kill(i: number): Promise<void> {
    const m = this.members[i]!;
    const p = m.proc;
    if (!p) return;
    m.proc = undefined;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }

  /** Restarts a killed member on its data dir; resolves when it answers /health. */
  async restart(i: number): Promise<void> {
    const m = this.members[i]!;
    if (m.proc) return;
    this.spawn(m, 'existing');
    await this.waitHealthy(m, 30_000);
  }

  pause(i: number): void {
    const m = this.members[i]!;
    if (m.proc && !m.paused) {
      m.proc.kill('SIGSTOP');
      m.paused = true;
    }
  }

  resume(i: number): void {
    const m = this.members[i]!;
    if (m.proc && m.paused) {
      m.proc.kill('SIGCONT');
      m.paused = false;
    }
  }

  async stop(): Promise<void> {
    for (let i = 0; i < this.members.length; i++) {
      this.resume(i);
      await this.kill(i);
    }
    await rm(this.root, { recursive: true, force: true });
  }
}
