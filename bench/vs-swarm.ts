// Skiff next to Docker Swarm on this machine, in one run, through each system's own CLI: the
// same workload (N replicas of a busybox `sleep` from the same image archives, no probes, grace
// 0; Swarm --restart-delay 0s --stop-grace-period 0s --update-parallelism 12; Skiff maxSurge 0,
// maxUnavailable 12). Figures: apply -> N running, rolling update of N, a container killed ->
// running again (3 kills, different replicas), scale N -> 2N, and the orchestrators' resident
// memory at 2N. Each side is watched the same way: a 50 ms poll of its own API.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unwrapAs } from '../proto/api/kinds.js';
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import { ContainerState } from '../proto/gen/runtime/v1/api.js';
import { CriClient } from '../node-agent/runtime/cri/client.js';
import { LABEL_POD_NAME } from '../node-agent/runtime/labels.js';
import { startContainerd } from '../test/helpers/containerd.js';
import { REPO_ROOT } from '../test/helpers/images.js';
import { spawnAgentProcess } from './agent-process.js';
import { realNodeUnavailable } from './real-node.js';
import { SMALL_PROCESS_NODE_FLAGS } from '../proto/api/node-flags.js';
import { builtProgram, connect, sleep, startBed, waitNodesReady } from './cluster.js';
import type { ScenarioOptions } from './scenario.js';
import { procUsage, round1 } from './stats.js';
import { Swarm, swarmUnavailable } from './swarm.js';
import { testTlsFiles } from '../test/helpers/tls.js';

const POLL_MS = 50;
const KILLS = 3;
const CLI = builtProgram('cli/main.js');
const IMAGE1 = 'skiff/hello:1';
const IMAGE2 = 'skiff/hello:2';

/** What the comparison needs of an orchestrator. */
interface Side {
  deploy(replicas: number): Promise<void>;
  updateImage(image: string): Promise<void>;
  scale(replicas: number): Promise<void>;
  /** Containers running per image. */
  census(): Promise<Map<string, number>>;
  killOne(skip: ReadonlySet<string>): Promise<{ name: string; recovered(): Promise<boolean> }>;
  /** Resident memory (MB) of each of its own processes. */
  memory(): Promise<Record<string, number>>;
}

export interface SideFigures {
  applyMs: number;
  rollingUpdateMs: number;
  killedToRunningMs: number[];
  scaleMs: number;
  memoryMB: Record<string, number>;
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what} not reached in ${timeoutMs} ms`);
    await sleep(POLL_MS);
  }
  return Date.now() - t0;
}

/** The five figures, measured the same way on either side. */
async function measure(side: Side, replicas: number, timeoutMs: number, label: string): Promise<SideFigures> {
  const running = async (image: string): Promise<number> => (await side.census()).get(image) ?? 0;
  let t0 = Date.now();
  await side.deploy(replicas);
  await waitFor(async () => (await running(IMAGE1)) === replicas, timeoutMs, `${label}: ${replicas} running`);
  const applyMs = Date.now() - t0;
  t0 = Date.now();
  await side.updateImage(IMAGE2);
  await waitFor(async () => {
    const c = await side.census();
    return (c.get(IMAGE2) ?? 0) === replicas && (c.get(IMAGE1) ?? 0) === 0;
  }, timeoutMs, `${label}: rolling update`);
  const rollingUpdateMs = Date.now() - t0;
  await sleep(2000);
  const killed = new Set<string>();
  const killedToRunningMs: number[] = [];
  for (let i = 0; i < KILLS; i++) {
    const k = await side.killOne(killed);
    killed.add(k.name);
    killedToRunningMs.push(await waitFor(() => k.recovered(), timeoutMs, `${label}: killed container ${k.name} running again`));
    await sleep(1000);
  }
  t0 = Date.now();
  await side.scale(replicas * 2);
  await waitFor(async () => (await running(IMAGE2)) === replicas * 2, timeoutMs, `${label}: scale to ${replicas * 2}`);
  const scaleMs = Date.now() - t0;
  await sleep(5000);
  return { applyMs, rollingUpdateMs, killedToRunningMs, scaleMs, memoryMB: await side.memory() };
}

async function memoryOf(pids: Record<string, number>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) out[name] = pid ? (await procUsage(pid)).rssMB : NaN;
  return out;
}

/** Skiff as deployed on one node: etcd, the control plane and the agent as processes, the CLI. */
async function skiffSide(replicas: number, timeoutMs: number): Promise<SideFigures> {
  const containerd = await startContainerd();
  const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-vs-'));
  // The control plane as `skiff up` runs it for a one-machine cluster.
  const bed = await startBed({ controlPlanes: 1, nodeArgs: SMALL_PROCESS_NODE_FLAGS });
  const cp = bed.cps[0];
  const api = cp ? connect(cp.address) : undefined;
  const cri = new CriClient(containerd.socket);
  const agent = cp ? await spawnAgentProcess({ controlPlane: cp.address, nodeName: 'vs-swarm', containerd, stateDir: dir }) : undefined;
  try {
    if (!cp || !api || !agent) throw new Error('no control plane');
    await waitNodesReady(api, 1, 60_000);
    const { caFile } = await testTlsFiles();
    const skiff = (args: string[], stdin?: string): Promise<void> => new Promise((resolve, reject) => {
      const p = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH, HOME: dir, SKIFF_SERVER: cp.address, SKIFF_CERTIFICATE_AUTHORITY: caFile }, stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.once('error', reject);
      p.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`skiff ${args.join(' ')} exited ${code}: ${err}`))));
      p.stdin.end(stdin ?? '');
    });
    const pods = async (): Promise<Pod[]> => (await api.list({ kind: 'Pod', namespace: 'default', labelSelector: 'app=bench' })).items.map((r) => unwrapAs('Pod', r));
    const file = join(dir, 'bench.yaml');
    const side: Side = {
      async deploy(n) {
        await writeFile(file, `apiVersion: apps/v1
kind: Deployment
metadata: {name: bench}
spec:
  replicas: ${n}
  selector: {matchLabels: {app: bench}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 0, maxUnavailable: 12}}
  template:
    metadata: {labels: {app: bench}}
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{name: app, image: ${IMAGE1}, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}]
`);
        await skiff(['apply', '-f', file]);
      },
      updateImage: (image) => skiff(['set', 'image', 'deploy/bench', `app=${image}`]),
      scale: (n) => skiff(['scale', 'deploy/bench', '--replicas', String(n)]),
      async census() {
        const m = new Map<string, number>();
        for (const p of await pods()) {
          if (!p.status?.containerStatuses.some((c) => c.state?.running)) continue;
          const image = p.spec?.containers[0]?.image ?? '';
          m.set(image, (m.get(image) ?? 0) + 1);
        }
        return m;
      },
      async killOne(skip) {
        const p = (await pods()).find((x) => !x.metadata?.deletionTimestamp && !skip.has(x.metadata?.name ?? '') && x.status?.containerStatuses[0]?.state?.running);
        const name = p?.metadata?.name ?? '';
        if (!p) throw new Error('skiff: no running pod to kill');
        const restarts = p.status?.containerStatuses[0]?.restartCount ?? 0;
        const { containers } = await cri.rt('listContainers', { filter: { id: '', podSandboxId: '', labelSelector: { [LABEL_POD_NAME]: name } } });
        const running = containers.find((c) => c.state === ContainerState.CONTAINER_RUNNING);
        if (!running) throw new Error(`skiff: pod ${name} has no running container in containerd`);
        const { info } = await cri.rt('containerStatus', { containerId: running.id, verbose: true });
        const pid = (JSON.parse(info.info ?? '{}') as { pid?: number }).pid;
        if (!pid) throw new Error(`skiff: containerd gave no pid for ${name}`);
        process.kill(pid, 'SIGKILL');
        return {
          name,
          recovered: async () => {
            const now = unwrapAs('Pod', await api.get({ kind: 'Pod', namespace: 'default', name }));
            const c = now.status?.containerStatuses[0];
            return (c?.restartCount ?? 0) > restarts && !!c?.state?.running;
          },
        };
      },
      memory: () => memoryOf({ 'control plane': cp.pid, agent: agent.pid, etcd: bed.etcd.process.pid ?? 0, containerd: containerd.process.pid ?? 0 }),
    };
    return await measure(side, replicas, timeoutMs, 'skiff');
  } finally {
    await api?.delete({ kind: 'Deployment', namespace: 'default', name: 'bench' }).catch(() => undefined); // absent when deploy failed
    await agent?.stop();
    cri.close();
    api?.close();
    await bed.close();
    await containerd.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function swarmSide(replicas: number, timeoutMs: number): Promise<SideFigures> {
  const swarm = await Swarm.start();
  let result: SideFigures | undefined;
  try {
    result = await measure({
      deploy: (n) => swarm.deploy(n),
      updateImage: (i) => swarm.updateImage(i),
      scale: (n) => swarm.scale(n),
      census: () => swarm.census(),
      killOne: (skip) => swarm.killOne(skip),
      memory: async () => memoryOf(await swarm.pids()),
    }, replicas, timeoutMs, 'swarm');
  } finally {
    await swarm.close();
  }
  return result;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;

const sumMemory = (r: Record<string, number>, keys: string[]): number => round1(keys.reduce((n, k) => n + (r[k] ?? 0), 0));

/**
 * Skiff's side alone (`npm run bench -- vs-swarm-skiff --pods 50`): the same figures without
 * Swarm, for trying a change several times on a shared machine before a full side-by-side run.
 */
export async function skiffOnly(o: ScenarioOptions): Promise<{ json: Record<string, unknown>; summary: string; series: [] }> {
  const why = realNodeUnavailable();
  if (why) return { json: { scenario: 'vs-swarm-skiff', skipped: true, reason: why }, summary: `vs-swarm-skiff: skipped: ${why}`, series: [] };
  const skiff = await skiffSide(o.pods, o.timeoutMs);
  const json = { scenario: 'vs-swarm-skiff', replicas: o.pods, skiff };
  const mem = sumMemory(skiff.memoryMB, ['control plane', 'agent']);
  return {
    json,
    summary: [
      `skiff alone (${o.pods} replicas): apply ${skiff.applyMs} ms, rolling update ${skiff.rollingUpdateMs} ms, killed -> running ${skiff.killedToRunningMs.join('/')} ms, scale ${skiff.scaleMs} ms`,
      `  RSS at ${o.pods * 2}: control plane + agent ${mem} MB; ${JSON.stringify(skiff.memoryMB)}`,
    ].join('\n'),
    series: [],
  };
}

/** Both sides, Swarm first, and the ratios Skiff / Swarm with the targets. */
export async function vsSwarm(o: ScenarioOptions): Promise<{ json: Record<string, unknown>; summary: string }> {
  const why = await swarmUnavailable(REPO_ROOT);
  if (why) return { json: { skipped: true, reason: why }, summary: `vs-swarm: skipped: ${why}` };
  const replicas = o.pods;
  const swarm = await swarmSide(replicas, o.timeoutMs);
  const skiff = await skiffSide(replicas, o.timeoutMs);
  const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;
  const rows: [string, number, number, number][] = [
    [`apply -> ${replicas} running (ms)`, swarm.applyMs, skiff.applyMs, 0.6],
    [`rolling update of ${replicas} (ms)`, swarm.rollingUpdateMs, skiff.rollingUpdateMs, 0.6],
    [`container killed -> running again, median of ${KILLS} (ms)`, median(swarm.killedToRunningMs), median(skiff.killedToRunningMs), 0.5],
    [`scale ${replicas} -> ${replicas * 2} (ms)`, swarm.scaleMs, skiff.scaleMs, 0.6],
    [`orchestrator RSS at ${replicas * 2} (MB): dockerd vs control plane + agent`, swarm.memoryMB.dockerd ?? NaN, sumMemory(skiff.memoryMB, ['control plane', 'agent']), 1],
  ];
  const json = {
    skipped: false, replicas, swarm, skiff,
    figures: rows.map(([figure, sw, sk, target]) => ({ figure, swarm: sw, skiff: sk, ratio: ratio(sk, sw), target, met: sk / sw <= target })),
    note: 'same run, Swarm first; each side watched by a 50 ms poll of its own API (Engine API /tasks, Skiff List pods); shims not counted on either side',
  };
  const pad = (s: string, n: number): string => s.padEnd(n);
  return {
    json,
    summary: [
      `vs-swarm (${replicas} replicas, same machine, same run):`,
      `  ${pad('figure', 72)} ${pad('swarm', 9)} ${pad('skiff', 9)} ratio (target)`,
      ...json.figures.map((f) => `  ${pad(f.figure, 72)} ${pad(String(f.swarm), 9)} ${pad(String(f.skiff), 9)} x${f.ratio} (<= x${f.target}${f.met ? ', met' : ', MISSED'})`),
      `  memory detail: swarm ${JSON.stringify(swarm.memoryMB)}; skiff ${JSON.stringify(skiff.memoryMB)}`,
    ].join('\n'),
  };
}
