// The chaos bed: a 3-member etcd, two control planes as child processes reaching etcd only
// through TCP proxies the run controls (one per member, so a control plane can be cut off from
// etcd), and fake-runtime node agents in this process, each reaching both control planes through
// its own proxies (so one agent can be cut off). Control planes keep their ports across
// restarts, so the agents' address lists stay valid.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { builtProgram, connect } from '../../bench/cluster.js';
import type { TestApi } from '../../control-plane/api/testing.js';
import { NodeAgent } from '../../node-agent/agent.js';
import { CriClient } from '../../node-agent/runtime/cri/client.js';
import { CriRuntime } from '../../node-agent/runtime/cri/driver.js';
import { FakeRuntime } from '../../node-agent/runtime/fake/driver.js';
import { FakeHost } from '../../node-agent/runtime/fake/host.js';
import { LABEL_POD_NAME, LABEL_POD_UID } from '../../node-agent/runtime/labels.js';
import { ContainerState } from '../../proto/gen/runtime/v1/api.js';
import { startContainerd, type Containerd } from '../helpers/containerd.js';
import { sampleImage, type ImageArchive } from '../helpers/images.js';
import { freePort } from '../helpers/ports.js';
import { httpsFetch } from '../helpers/https.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { controlPlaneTlsArgs, TEST_AGENT_SERVING, TEST_CLIENT_TLS, testTlsFiles } from '../helpers/tls.js';
import { EtcdCluster } from './etcd-cluster.js';

export const LEADER_LEASE_SECONDS = 3;
export const NODE_GRACE_SECONDS = 6;
export const POD_EVICTION_DELAY_SECONDS = 5;

export class ControlPlaneSlot {
  proc: ChildProcess | undefined;
  paused = false;
  tail = '';
  /** When set (CHAOS_LOG_DIR), every start appends the process's log here. */
  logFile: WriteStream | undefined;
  constructor(
    readonly identity: string,
    readonly port: number,
    readonly metricsPort: number,
    readonly etcdProxies: TcpProxy[],
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return this.proc !== undefined;
  }

  async start(): Promise<void> {
    const tls = await testTlsFiles();
    const proc = spawn(process.execPath, [
      builtProgram('control-plane/main.js'),
      ...controlPlaneTlsArgs(tls),
      '--etcd-endpoints', this.etcdProxies.map((p) => p.endpoint).join(','),
      '--listen', this.address, '--metrics-listen', `127.0.0.1:${this.metricsPort}`, '--metrics-insecure', '--rest-listen', '127.0.0.1:0',
      '--identity', this.identity, '--log-level', this.logFile ? 'info' : 'warn',
      '--leader-lease-seconds', String(LEADER_LEASE_SECONDS), '--node-grace-period', String(NODE_GRACE_SECONDS),
      '--pod-eviction-delay', String(POD_EVICTION_DELAY_SECONDS), '--node-eviction-rate', '1',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (d: Buffer) => {
      this.tail = (this.tail + d.toString()).slice(-4000);
      this.logFile?.write(d);
    });
    this.proc = proc;
    this.paused = false;
    const until = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`control plane ${this.identity} exited: ${this.tail}`);
      try {
        if ((await httpsFetch(`https://127.0.0.1:${this.metricsPort}/metrics`, { signal: AbortSignal.timeout(1000) })).status === 200) return;
      } catch {
        // not up yet
      }
      if (Date.now() > until) throw new Error(`control plane ${this.identity} did not come up: ${this.tail}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async kill(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = undefined;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }

  signal(sig: 'SIGSTOP' | 'SIGCONT'): void {
    if (!this.proc) return;
    this.proc.kill(sig);
    this.paused = sig === 'SIGSTOP';
  }

  partition(on: boolean): void {
    for (const p of this.etcdProxies) p.setRefusing(on);
  }
}

/** Each agent's state dir is a tmpfs this small (when run as root), so fill-disk can fill it. */
export const STATE_DIR_BYTES = 16 * 1024 * 1024;
const FILL_FILE = 'chaos-fill';

/** Which runtime the bed's agents use: the in-process fake (scale), or a private containerd each. */
export type BedRuntime = 'fake' | 'containerd';
/** The image the workload runs on containerd (imported into each node's containerd, never pulled). */
export const CONTAINERD_IMAGE = 'skiff/hello:1';
/** Fault kinds a containerd bed can inject (sick-runtime and fill-disk use the fake's hooks and its tmpfs). */
export const CONTAINERD_KINDS = ['kill-container', 'kill-agent', 'kill-leading-cp', 'kill-agents-cp'] as const;

export class AgentSlot {
  agent: NodeAgent | undefined;
  host: FakeHost | undefined;
  runtime: FakeRuntime | undefined;
  /** On a containerd bed: the node's containerd while the node is up, and its pod subnet (kept across restarts). */
  containerd: Containerd | undefined;
  private subnet: string | undefined;
  /** True once its state dir is a tmpfs of its own (fill-disk needs that). */
  tmpfs = false;
  constructor(
    readonly name: string,
    readonly index: number,
    readonly stateDir: string,
    readonly cpProxies: TcpProxy[],
    readonly kind: BedRuntime = 'fake',
    private readonly images: ImageArchive[] = [],
  ) {}

  async start(): Promise<void> {
    let podCIDR = `10.244.${this.index + 1}.0/24`;
    let runtime: FakeRuntime | CriRuntime;
    if (this.kind === 'containerd') {
      // A node that comes back after a crash: a fresh containerd (nothing of the old one left),
      // on the node's own pod range (a Node's podCIDR never changes).
      const ctrd = await startContainerd({ subnet: this.subnet, images: this.images });
      this.containerd = ctrd;
      this.subnet = podCIDR = ctrd.subnet;
      runtime = new CriRuntime({ address: ctrd.address, nodeName: this.name, pollIntervalMs: 200 });
    } else {
      this.host = new FakeHost({ podCidr: podCIDR, startLatencyMs: 50, writeLogs: false });
      runtime = this.runtime = new FakeRuntime({ host: this.host, nodeName: this.name });
    }
    this.agent = new NodeAgent({
      nodeName: this.name, controlPlane: this.cpProxies.map((p) => `127.0.0.1:${p.port}`).join(','),
      tls: TEST_CLIENT_TLS, serving: TEST_AGENT_SERVING, runtime, stateDir: this.stateDir, listen: '',
      nodeIP: '127.0.0.1', podCIDR, heartbeatMs: 1000, apiTimeoutMs: 3000, log: pino({ level: 'silent' }),
      capacity: { cpu: '64', memory: '256Gi', pods: '110' },
    });
    await this.agent.start();
  }

  /** A crash of the node: the agent stops and its containers vanish with the host (or containerd). */
  async kill(): Promise<void> {
    const a = this.agent;
    const h = this.host;
    const ctrd = this.containerd;
    this.agent = undefined;
    this.host = undefined;
    this.runtime = undefined;
    this.containerd = undefined;
    if (a) await a.stop();
    if (a && ctrd) await a.runtime.close();
    h?.shutdown();
    await ctrd?.stop();
  }

  /**
   * Kills one running container of a chaos pod (the pick-th, in container id order), as `kill -9`
   * would: the fake's hook, or CRI StopContainer with timeout 0 (SIGKILL) on containerd.
   */
  async killChaosContainer(pick: number): Promise<{ pod: string; uid: string } | undefined> {
    const chaos = (labels: Record<string, string>): boolean => /^(roll-a|roll-b|scaled)-/.test(labels[LABEL_POD_NAME] ?? '');
    if (this.containerd) {
      const cri = new CriClient(this.containerd.address);
      try {
        const { containers } = await cri.rt('listContainers', { filter: { id: '', podSandboxId: '', labelSelector: {} } });
        const running = containers.filter((c) => c.state === ContainerState.CONTAINER_RUNNING && chaos(c.labels)).sort((x, y) => x.id.localeCompare(y.id));
        const victim = running.length ? running[pick % running.length] : undefined;
        if (!victim) return undefined;
        await cri.rt('stopContainer', { containerId: victim.id, timeout: 0 });
        return { pod: victim.labels[LABEL_POD_NAME] ?? '', uid: victim.labels[LABEL_POD_UID] ?? '' };
      } finally {
        cri.close();
      }
    }
    const running = [...(this.host?.containers.values() ?? [])]
      .filter((c) => c.state === 'running' && chaos(c.labels))
      .sort((x, y) => x.id.localeCompare(y.id));
    const victim = running.length ? running[pick % running.length] : undefined;
    if (!victim || !this.runtime?.killContainer(victim.id)) return undefined;
    return { pod: victim.labels[LABEL_POD_NAME] ?? '', uid: victim.labels[LABEL_POD_UID] ?? '' };
  }

  partition(on: boolean): void {
    for (const p of this.cpProxies) p.setRefusing(on);
  }

  /** Makes the state dir a small tmpfs of its own (root only; without it fill-disk cannot run). */
  async mountStateDir(): Promise<void> {
    await mkdir(this.stateDir, { recursive: true });
    try {
      await run('mount', ['-t', 'tmpfs', '-o', `size=${STATE_DIR_BYTES},mode=0700`, 'skiff-chaos', this.stateDir]);
      this.tmpfs = true;
    } catch {
      this.tmpfs = false;
    }
  }

  async unmountStateDir(): Promise<void> {
    if (!this.tmpfs) return;
    await run('umount', ['-l', this.stateDir]);
    this.tmpfs = false;
  }

  /** Fills the state dir's filesystem to all but 256 KiB (below any eviction threshold of 10%). */
  async fillDisk(): Promise<void> {
    if (!this.tmpfs) throw new Error(`fill-disk needs ${this.name}'s state dir on its own tmpfs (run as root)`);
    const st = await statfs(this.stateDir);
    const free = st.bavail * st.bsize;
    await writeFile(join(this.stateDir, FILL_FILE), Buffer.alloc(Math.max(0, free - 256 * 1024)));
  }

  async freeDisk(): Promise<void> {
    await rm(join(this.stateDir, FILL_FILE), { force: true });
  }
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: ${err.trim() || `exit ${code}`}`))));
  });
}

export class Bed {
  private constructor(
    readonly etcd: EtcdCluster,
    readonly cps: ControlPlaneSlot[],
    readonly agents: AgentSlot[],
    private readonly root: string,
    private readonly proxies: TcpProxy[],
  ) {}

  /** The image the workload's pods run. */
  get image(): string {
    return this.agents[0]?.kind === 'containerd' ? CONTAINERD_IMAGE : 'chaos/app:1';
  }

  static async start(opts: { agents: number; runtime?: BedRuntime }): Promise<Bed> {
    const kind = opts.runtime ?? 'fake';
    const images = kind === 'containerd' ? [await sampleImage('skiff/pause:1'), await sampleImage(CONTAINERD_IMAGE)] : [];
    const root = await mkdtemp(join(tmpdir(), 'skiff-chaos-'));
    const etcd = await EtcdCluster.start(3);
    const proxies: TcpProxy[] = [];
    const proxy = async (port: number): Promise<TcpProxy> => {
      const p = await new TcpProxy('127.0.0.1', port).start();
      proxies.push(p);
      return p;
    };
    const cps: ControlPlaneSlot[] = [];
    for (let i = 0; i < 2; i++) {
      const etcdProxies: TcpProxy[] = [];
      for (const e of etcd.endpoints) etcdProxies.push(await proxy(e.port));
      const slot = new ControlPlaneSlot(`cp-${i}`, await freePort(), await freePort(), etcdProxies);
      if (process.env.CHAOS_LOG_DIR) slot.logFile = createWriteStream(join(process.env.CHAOS_LOG_DIR, `${slot.identity}.log`), { flags: 'a' });
      cps.push(slot);
    }
    const agents: AgentSlot[] = [];
    for (let i = 0; i < opts.agents; i++) {
      const cpProxies: TcpProxy[] = [];
      for (const cp of cps) cpProxies.push(await proxy(cp.port));
      agents.push(new AgentSlot(`chaos-${i}`, i, join(root, `chaos-${i}`), cpProxies, kind, images));
    }
    const bed = new Bed(etcd, cps, agents, root, proxies);
    try {
      await cps[0]!.start();
      await bed.waitLeader(30_000);
      await cps[1]!.start();
      for (const a of agents) {
        // fill-disk is a fake-runtime fault; on containerd the state dir also holds container logs.
        if (kind === 'fake') await a.mountStateDir();
        await a.start();
      }
    } catch (e) {
      await bed.stop();
      throw e;
    }
    return bed;
  }

  /** A fresh client of one control plane (direct, not through an agent's proxy). */
  client(i: number): TestApi {
    return connect(this.cps[i]!.address);
  }

  /** Index of the control plane that says it leads, or -1. */
  async leadingCp(): Promise<number> {
    for (let i = 0; i < this.cps.length; i++) {
      const cp = this.cps[i]!;
      if (!cp.alive || cp.paused) continue;
      const api = this.client(i);
      try {
        const v = await Promise.race([api.version(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timeout')), 2000))]);
        if (v.leader && v.leader === v.identity) return i;
      } catch {
        // not answering: not the one to pick
      } finally {
        api.close();
      }
    }
    return -1;
  }

  async waitLeader(timeoutMs: number): Promise<number> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const i = await this.leadingCp();
      if (i >= 0) return i;
      if (Date.now() > until) throw new Error(`no control plane leads after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async stop(): Promise<void> {
    for (const a of this.agents) await a.kill().catch(() => undefined);
    for (const a of this.agents) await a.unmountStateDir().catch((e: unknown) => console.error(`chaos bed: ${String(e)}`));
    for (const cp of this.cps) {
      cp.signal('SIGCONT');
      await cp.kill();
      cp.logFile?.end();
    }
    for (const p of this.proxies) await p.stop();
    await this.etcd.stop();
    await rm(this.root, { recursive: true, force: true });
  }
}
