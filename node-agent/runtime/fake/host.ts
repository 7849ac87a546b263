// The simulated machine behind the fake runtime: what containerd would hold for one node
// (images, sandboxes with IPs from the pod CIDR, containers and their programs). It outlives
// FakeRuntime instances, so a new instance on the same host re-attaches like the CRI one does
// after an agent restart. Everything is in memory and timer-driven: hundreds fit in a process.
import { createHash } from 'node:crypto';
import { formatIPv4, mustParseCidr, parseIPv4, sizeOf } from '../../../proto/api/cidr.js';
import type { ContainerConfig, SandboxConfig } from '../runtime.js';
import { FOREVER_GRACEFUL, type Program, type TermAction } from './program.js';

export interface FakeImage {
  /** Environment the image sets (like ENV in a Dockerfile). */
  env?: Record<string, string>;
  /** What runs when the pod gives no command (default: runs until stopped, exits 0 on SIGTERM). */
  program?: (env: Record<string, string>) => Program;
  /** Pulling it fails with this message. */
  pullError?: string;
  /** Every exec in it exits 1 (a readiness check that never passes). */
  neverReady?: boolean;
}

export interface FakeHostOptions {
  /** Pod CIDR to hand out IPs from (IPv4); default 10.244.0.0/24. */
  podCidr?: string;
  /** Images present without a pull (normalized or short refs); default: the sample images. */
  images?: string[];
  /** Per-image behaviour by ref (short or normalized). Marker refs work too, see imageBehaviour. */
  imageConfig?: Record<string, FakeImage>;
  /** Latency of a pull, of RunPodSandbox and of container start, in ms (default 0). */
  pullLatencyMs?: number;
  sandboxLatencyMs?: number;
  startLatencyMs?: number;
  /** Write container output to the CRI log file (default true). */
  writeLogs?: boolean;
}

export interface FakeSandbox {
  id: string;
  cfg: SandboxConfig;
  labels: Record<string, string>;
  ip: string;
  ready: boolean;
  createdAt: Date;
}

export interface FakeContainer {
  id: string;
  sandboxId: string;
  cfg: ContainerConfig;
  labels: Record<string, string>;
  imageRef: string;
  env: Record<string, string>;
  cmdline: string[];
  program: Program;
  onTerm: TermAction;
  neverReady: boolean;
  state: 'created' | 'running' | 'exited';
  exitCode: number;
  reason: string;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  logPath: string;
  timers: Set<NodeJS.Timeout>;
  waiters: Set<() => void>;
  logChain?: Promise<void>;
  /** Simulated usage: a steady CPU rate and working set while running (see FakeRuntime.setUsage). */
  usage: FakeUsage;
}

export interface FakeUsage {
  cpuMillicores: number;
  memoryBytes: number;
  /** CPU time used up to `sinceMs` (the last change of rate), in core-nanoseconds. */
  cpuNanosBefore: number;
  sinceMs: number;
}

/** Container env that sets the fake's simulated usage (simulated nodes have no other handle). */
export const FAKE_CPU_ENV = 'SKIFF_FAKE_CPU_MILLICORES';
export const FAKE_MEMORY_ENV = 'SKIFF_FAKE_MEMORY_BYTES';
/** What a container uses unless told otherwise: 1 millicore and 1 MiB. */
export const DEFAULT_FAKE_CPU_MILLICORES = 1;
export const DEFAULT_FAKE_MEMORY_BYTES = 1 << 20;

export const SAMPLE_IMAGES: Record<string, FakeImage> = {
  'docker.io/skiff/pause:1': {},
  'docker.io/skiff/hello:1': { env: { VERSION: '1' } },
  'docker.io/skiff/hello:2': { env: { VERSION: '2' } },
  'docker.io/skiff/burner:1': {},
  'docker.io/skiff/crasher:1': {
    program: (env) => {
      const secs = Number(env.CRASH_AFTER ?? '3') || 0;
      return {
        steps: [
          { kind: 'out', stream: 'stdout', text: `crasher: starting, exiting with code 1 in ${secs}s\n` },
          { kind: 'sleep', ms: secs * 1000 },
          { kind: 'out', stream: 'stdout', text: 'crasher: exiting\n' },
          { kind: 'exit', code: 1 },
        ],
        onTerm: { ignore: true },
      };
    },
  },
};

/** docker.io/library/x:latest form, as containerd's CRI names images. */
export function normalizeImage(ref: string): string {
  let name = ref;
  const firstSlash = name.indexOf('/');
  const first = firstSlash < 0 ? '' : name.slice(0, firstSlash);
  if (firstSlash < 0) name = `docker.io/library/${name}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') name = `docker.io/${name}`;
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  if (!lastPart.includes(':') && !name.includes('@')) name += ':latest';
  return name;
}

export function imageId(ref: string): string {
  return `sha256:${createHash('sha256').update(normalizeImage(ref)).digest('hex')}`;
}

/**
 * Behaviour of an image: the configured one, else derived from markers in the ref:
 * `fail-pull` or `does-not-exist` (pull fails), `crash-<ms>-<code>` (exits with code after ms),
 * `oom-<ms>` (OOMKilled after ms), `never-ready` (exec always fails).
 */
export function imageBehaviour(ref: string, config: Record<string, FakeImage>): FakeImage {
  const n = normalizeImage(ref);
  const found = config[n] ?? config[ref] ?? SAMPLE_IMAGES[n];
  if (found) return found;
  const out: FakeImage = {};
  if (/fail-pull|does-not-exist/.test(ref)) out.pullError = `failed to resolve reference "${n}": not found`;
  if (ref.includes('never-ready')) out.neverReady = true;
  const crash = /crash-(\d+)-(\d+)/.exec(ref);
  if (crash) {
    const [ms, code] = [Number(crash[1]), Number(crash[2])];
    out.program = () => ({ steps: [{ kind: 'sleep', ms }, { kind: 'exit', code }], onTerm: { exit: 0 } });
  }
  const oom = /oom-(\d+)/.exec(ref);
  if (oom) out.program = () => ({ steps: [{ kind: 'sleep', ms: Number(oom[1]) }, { kind: 'exit', code: 137, reason: 'OOMKilled' }], onTerm: { exit: 0 } });
  return out;
}

export class FakeHost {
  readonly images = new Set<string>();
  readonly sandboxes = new Map<string, FakeSandbox>();
  readonly containers = new Map<string, FakeContainer>();
  readonly imageConfig: Record<string, FakeImage>;
  /** What status() reports: tests and chaos runs flip these to simulate a sick runtime. */
  readonly health = { answering: true, runtimeReady: true, networkReady: true };
  private ipBase = 0;
  private ipCount = 0;
  private readonly usedIPs = new Set<number>();
  private seq = 0;

  constructor(readonly opts: FakeHostOptions = {}) {
    this.imageConfig = Object.fromEntries(Object.entries(opts.imageConfig ?? {}).map(([k, v]) => [normalizeImage(k), v]));
    for (const img of opts.images ?? Object.keys(SAMPLE_IMAGES)) this.images.add(normalizeImage(img));
    this.setPodCidr(opts.podCidr ?? '10.244.0.0/24');
  }

  /** Where IPs come from from now on (the node's range, once the control plane gave one). */
  setPodCidr(cidr: string): void {
    const c = mustParseCidr(cidr);
    if (this.usedIPs.size > 0 && (c.base !== this.ipBase || sizeOf(c) !== this.ipCount)) {
      throw new Error(`pod CIDR cannot change to ${cidr} while ${this.usedIPs.size} pod IPs are in use`);
    }
    this.ipBase = c.base;
    this.ipCount = sizeOf(c);
  }

  newId(): string {
    return createHash('sha256').update(`${process.pid}-${Date.now()}-${++this.seq}-${Math.random()}`).digest('hex');
  }

  /** The next free pod IP (.1 is the gateway, as on the CNI bridge). */
  allocateIP(): string {
    for (let i = 2; i < this.ipCount - 1; i++) {
      if (this.usedIPs.has(i)) continue;
      this.usedIPs.add(i);
      return formatIPv4(this.ipBase + i);
    }
    throw new Error('pod CIDR exhausted');
  }

  releaseIP(ip: string): void {
    if (!ip) return;
    const n = parseIPv4(ip);
    if (n !== undefined) this.usedIPs.delete(n - this.ipBase);
  }

  behaviour(ref: string): FakeImage {
    return imageBehaviour(ref, this.imageConfig);
  }

  defaultProgram(ref: string, env: Record<string, string>): Program {
    return this.behaviour(ref).program?.(env) ?? FOREVER_GRACEFUL;
  }

  /** Ends every timer: for tests and benchmarks that drop a host. */
  shutdown(): void {
    for (const c of this.containers.values()) for (const t of c.timers) clearTimeout(t);
    this.containers.clear();
    this.sandboxes.clear();
  }
}
