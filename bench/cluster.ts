// A benchmark cluster on this machine: a real etcd (fsync on), the control plane as child
// processes (so its RSS/CPU are its own), and N simulated node agents in this process on the
// fake runtime, each with its own gRPC channel, lease and pod watch.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { fromManifest, type JsonObject } from '../proto/api/manifest.js';
import { wrap } from '../proto/api/kinds.js';
import type { Deployment } from '../proto/gen/skiff/v1/apps.js';
import { ApiClient } from '../proto/gen/skiff/v1/api.js';
import { TestApi } from '../control-plane/api/testing.js';
import { NodeAgent } from '../node-agent/agent.js';
import { FakeRuntime } from '../node-agent/runtime/fake/driver.js';
import { FakeHost } from '../node-agent/runtime/fake/host.js';
import { startEtcd, type EtcdServer } from '../test/helpers/etcd.js';
import { freePort } from '../test/helpers/ports.js';
import { httpsFetch } from '../test/helpers/https.js';
import { controlPlaneTlsArgs, TEST_AGENT_SERVING, TEST_CLIENT_TLS, testTlsFiles } from '../test/helpers/tls.js';
import { grpcCredentials } from '../proto/api/tls-client.js';

// Built (dist/bench) or run from source by vitest: either way a child is the built program.
const HERE = fileURLToPath(new URL('.', import.meta.url));

/** A built program of the project, e.g. builtProgram('node-agent/main.js'). */
export function builtProgram(path: string): string {
  return /[/\\]dist[/\\]bench[/\\]?$/.test(HERE) ? join(HERE, '..', path) : join(HERE, '..', 'dist', path);
}

const CONTROL_PLANE_MAIN = builtProgram('control-plane/main.js');

export interface ControlPlaneChild {
  identity: string;
  address: string;
  metricsUrl: string;
  proc: ChildProcess;
  pid: number;
  stderrTail(): string;
  /** SIGTERM (graceful) or SIGKILL (crash); resolves when the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ControlPlaneOptions {
  identity: string;
  etcd: string;
  cpuProfDir?: string;
  /** Lets heapSnapshot() write V8 heap snapshots of this control plane here. */
  heapSnapshotDir?: string;
  extraArgs?: string[];
  /** Node flags before the script (e.g. SMALL_PROCESS_NODE_FLAGS, as `skiff up` runs it). */
  nodeArgs?: readonly string[];
}

export async function spawnControlPlane(o: ControlPlaneOptions): Promise<ControlPlaneChild> {
  const [port, mport] = [await freePort(), await freePort()];
  const tls = await testTlsFiles();
  const nodeArgs = [
    ...(o.nodeArgs ?? []),
    ...(o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : []),
    ...(o.heapSnapshotDir ? ['--heapsnapshot-signal=SIGUSR2', '--diagnostic-dir', o.heapSnapshotDir] : []),
  ];
  const proc = spawn(process.execPath, [
    ...nodeArgs, CONTROL_PLANE_MAIN,
    '--etcd-endpoints', o.etcd, '--listen', `127.0.0.1:${port}`, '--metrics-listen', `127.0.0.1:${mport}`, '--metrics-insecure',
    '--identity', o.identity, '--log-level', 'warn', '--rest-listen', '127.0.0.1:0',
    ...controlPlaneTlsArgs(tls), ...(o.extraArgs ?? []),
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  proc.stderr?.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const cp: ControlPlaneChild = {
    identity: o.identity,
    address: `127.0.0.1:${port}`,
    metricsUrl: `https://127.0.0.1:${mport}/metrics`,
    proc,
    pid: proc.pid ?? 0,
    stderrTail: () => tail,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(signal);
        const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
  const until = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`control plane ${o.identity} exited: ${tail}`);
    try {
      if ((await httpsFetch(cp.metricsUrl)).status === 200) break;
    } catch {
      // not up yet
    }
    if (Date.now() > until) {
      await cp.stop('SIGKILL');
      throw new Error(`control plane ${o.identity} did not come up: ${tail}`);
    }
    await sleep(100);
  }
  return cp;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function connect(address: string): TestApi {
  return new TestApi(new ApiClient(address, grpcCredentials(address, TEST_CLIENT_TLS), { 'grpc.use_local_subchannel_pool': 1 }));
}

export interface SimNodes {
  agents: NodeAgent[];
  stateRoot: string;
  stop(): Promise<void>;
}

/** Starts n simulated nodes (fake runtime, start latency startMs) against one API address. */
export async function startNodes(n: number, controlPlane: string, opts: { startMs: number; prefix?: string }): Promise<SimNodes> {
  const stateRoot = await mkdtemp(join(tmpdir(), 'skiff-bench-agents-'));
  const log = pino({ level: 'silent' });
  const agents: NodeAgent[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${opts.prefix ?? 'sim'}-${String(i).padStart(4, '0')}`;
    const podCidr = `10.${100 + Math.floor(i / 256)}.${i % 256}.0/24`;
    const host = new FakeHost({ podCidr, startLatencyMs: opts.startMs, writeLogs: false });
    agents.push(new NodeAgent({
      nodeName: name, controlPlane, tls: TEST_CLIENT_TLS, serving: TEST_AGENT_SERVING, runtime: new FakeRuntime({ host, nodeName: name }),
      stateDir: join(stateRoot, name), podCIDR: podCidr, listen: '', log, nodeIP: '127.0.0.1',
      capacity: { cpu: '64', memory: '256Gi', pods: '110' },
    }));
  }
  // Started in slices so a thousand registrations do not all hit the API in one tick.
  for (let i = 0; i < agents.length; i += 50) await Promise.all(agents.slice(i, i + 50).map((a) => a.start()));
  return {
    agents,
    stateRoot,
    async stop() {
      await Promise.all(agents.map((a) => a.stop()));
      await rm(stateRoot, { recursive: true, force: true });
    },
  };
}

/** Waits until `count` Nodes report Ready=True. */
export async function waitNodesReady(api: TestApi, count: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const list = await api.list({ kind: 'Node' });
    const ready = list.items.filter((r) => r.object?.$case === 'node' && r.object.value.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    if (ready >= count) return;
    if (Date.now() > until) throw new Error(`only ${ready}/${count} nodes Ready after ${timeoutMs} ms`);
    await sleep(250);
  }
}

export function deployment(name: string, replicas: number, image: string, extra: JsonObject = {}): Deployment {
  return fromManifest({
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace: 'default', labels: { bench: name } },
    spec: {
      replicas,
      selector: { matchLabels: { bench: name } },
      template: {
        metadata: { labels: { bench: name } },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image }] },
      },
      ...extra,
    },
  }).object as Deployment;
}

export async function createDeployment(api: TestApi, d: Deployment): Promise<void> {
  await api.create({ object: wrap('Deployment', d) });
}

export interface Bed {
  etcd: EtcdServer;
  cps: ControlPlaneChild[];
  close(): Promise<void>;
}

export async function startBed(opts: { controlPlanes: number; cpuProfDir?: string; heapSnapshotDir?: string; extraArgs?: string[]; nodeArgs?: readonly string[] }): Promise<Bed> {
  const etcd = await startEtcd();
  const cps: ControlPlaneChild[] = [];
  try {
    for (let i = 0; i < opts.controlPlanes; i++) {
      cps.push(await spawnControlPlane({ identity: `cp-${i}`, etcd: etcd.endpoint, cpuProfDir: opts.cpuProfDir, heapSnapshotDir: opts.heapSnapshotDir, extraArgs: opts.extraArgs, nodeArgs: opts.nodeArgs }));
    }
  } catch (e) {
    await Promise.all(cps.map((c) => c.stop('SIGKILL')));
    await etcd.stop();
    throw e;
  }
  return {
    etcd,
    cps,
    async close() {
      await Promise.all(cps.map((c) => c.stop()));
      await etcd.stop();
    },
  };
}

/**
 * Has the control plane (started with heapSnapshotDir) write a heap snapshot and waits until the
 * file is complete; returns its path.
 */
export async function heapSnapshot(cp: ControlPlaneChild, dir: string, timeoutMs = 120_000): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(cp.pid, 'SIGUSR2');
  const end = Date.now() + timeoutMs;
  let last = -1;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 500));
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!file) continue;
    const size = statSync(join(dir, file)).size;
    // Written in one go by the main thread: a size that holds for a poll is the whole file.
    if (size > 0 && size === last) return join(dir, file);
    last = size;
  }
  throw new Error(`no heap snapshot from the control plane in ${dir} after ${timeoutMs} ms`);
}
