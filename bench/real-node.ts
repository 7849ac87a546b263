// Real node: one agent on a private containerd (root only). Time from bind (the pod is created
// already bound to the node) to Running, for one pod and for a burst, next to the raw CRI time
// (RunPodSandbox + CreateContainer + StartContainer straight through node-agent/runtime/cri) in
// the same run.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { fromManifest } from '../proto/api/manifest.js';
import { wrap } from '../proto/api/kinds.js';
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import { NodeAgent } from '../node-agent/agent.js';
import { containerConfig, podPaths, sandboxConfig } from '../node-agent/pod-config.js';
import { CriRuntime } from '../node-agent/runtime/cri/driver.js';
import { startContainerd } from '../test/helpers/containerd.js';
import type { TestApi } from '../control-plane/api/testing.js';
import { spawnAgentProcess } from './agent-process.js';
import { connect, deployment, sleep, startBed, waitNodesReady } from './cluster.js';
import { PodTrace, traceSummary } from './pod-trace.js';
import { PodTracker } from './pod-tracker.js';
import { Semaphore } from '../proto/api/semaphore.js';
import type { ScenarioOptions, ScenarioResult } from './scenario.js';
import { procUsage, round1, summarize } from './stats.js';
import { runningSeries } from './svg.js';
import { TEST_AGENT_SERVING, TEST_CLIENT_TLS } from '../test/helpers/tls.js';

const NODE = 'real-node';
const IDLE_NODE = 'real-node-idle';
const IDLE_PODS = 10;
const IDLE_SECONDS = 20;
const IMAGE = 'skiff/hello:1';

/** Why the scenario cannot run here, or undefined when it can. */
export function realNodeUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (containerd with its own CNI bridge)';
  const onPath = (bin: string): boolean => (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, bin)));
  if (!onPath(process.env.CONTAINERD_BIN ?? 'containerd')) return 'containerd is not installed';
  return undefined;
}

function pod(name: string, uid = '', nodeName = NODE): Pod {
  return fromManifest({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid, labels: { bench: 'real' } },
    spec: { nodeName, terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: IMAGE }] },
  }).object as Pod;
}

/**
 * The real skiff-node-agent program (its own process, as deployed) on the same containerd with
 * IDLE_PODS pods, left alone for IDLE_SECONDS: its resident memory and CPU then.
 */
async function idleAgent(
  controlPlane: string, containerd: { socket: string; subnet: string }, stateDir: string, t: PodTracker, timeoutMs: number, api: TestApi,
): Promise<{ pods: number; rssMB: number; peakRssMB: number; cpuSecondsIdle: number; idleSeconds: number }> {
  const agent = await spawnAgentProcess({ controlPlane, nodeName: IDLE_NODE, containerd, stateDir });
  try {
    await Promise.all(Array.from({ length: IDLE_PODS }, (_, i) => api.create({ object: wrap('Pod', pod(`idle-${i}`, '', IDLE_NODE)) })));
    await t.until(() => t.running((p) => p.name.startsWith('idle-')).length >= IDLE_PODS || agent.exited(), timeoutMs, `${IDLE_PODS} pods Running on the agent process`);
    if (agent.exited()) throw new Error(`skiff-node-agent exited: ${agent.tail()}`);
    const before = await procUsage(agent.pid);
    await sleep(IDLE_SECONDS * 1000);
    const after = await procUsage(agent.pid);
    return { pods: IDLE_PODS, rssMB: after.rssMB, peakRssMB: after.peakRssMB, cpuSecondsIdle: round1(after.cpuSeconds - before.cpuSeconds), idleSeconds: IDLE_SECONDS };
  } finally {
    await agent.stop();
  }
}

/**
 * Raw CRI starts of `pods` pods with at most k start chains (sandbox, then container) in
 * flight, for each k, `rounds` times over (the levels interleaved, as this machine's load
 * drifts): how long until all are started, and each pod's own start; then removed. The
 * agent's start bound is chosen by it.
 */
async function criConcurrencySweep(raw: CriRuntime, stateDir: string, pods: number, levels: number[], rounds: number): Promise<{ concurrency: number; allStartedMsBest: number; allStartedMsRuns: number[]; perPod: ReturnType<typeof summarize> }[]> {
  const runs = new Map<number, { all: number[]; per: number[] }>();
  for (let r = 0; r < rounds; r++) {
    for (const k of levels) {
      const one = await sweepOnce(raw, stateDir, pods, k, r);
      const acc = runs.get(k) ?? { all: [], per: [] };
      acc.all.push(one.allStartedMs);
      acc.per.push(...one.per);
      runs.set(k, acc);
    }
  }
  return [...runs].map(([k, v]) => ({ concurrency: k, allStartedMsBest: Math.min(...v.all), allStartedMsRuns: v.all, perPod: summarize(v.per) }));
}

async function sweepOnce(raw: CriRuntime, stateDir: string, pods: number, k: number, round: number): Promise<{ allStartedMs: number; per: number[] }> {
  const sem = new Semaphore(k);
  const made: { sb: Awaited<ReturnType<CriRuntime['startSandbox']>>; h?: Awaited<ReturnType<CriRuntime['startContainer']>> }[] = [];
  const per: number[] = [];
  const t0 = Date.now();
  await Promise.all(Array.from({ length: pods }, (_, i) => sem.run(async () => {
    const p = pod(`sweep-${round}-${k}-${i}`, `sweep-uid-${round}-${k}-${i}-${t0}`);
    const paths = podPaths(join(stateDir, 'sweep'), { namespace: 'default', name: p.metadata?.name ?? '', uid: p.metadata?.uid ?? '' });
    const s = Date.now();
    const cfg = sandboxConfig(p, paths);
    const m: (typeof made)[number] = { sb: await raw.startSandbox(cfg) };
    made.push(m);
    const c = p.spec?.containers[0];
    if (!c) throw new Error('pod has no container');
    m.h = await raw.startContainer(m.sb, cfg, containerConfig(p, c, 0, []));
    per.push(Date.now() - s);
  })));
  const allStartedMs = Date.now() - t0;
  const clean = new Semaphore(8);
  await Promise.all(made.map((m) => clean.run(async () => {
    if (m.h) {
      await raw.stopContainer(m.h, 0);
      await raw.destroyContainer(m.h);
    }
    await raw.stopSandbox(m.sb);
    await raw.destroySandbox(m.sb);
  })));
  return { allStartedMs, per };
}

export async function realNode(o: ScenarioOptions): Promise<ScenarioResult> {
  const why = realNodeUnavailable();
  if (why) return { json: { scenario: 'real-node', size: o.size, skipped: true, reason: why }, summary: `real-node: skipped: ${why}`, series: [] };
  let containerd;
  try {
    containerd = await startContainerd();
  } catch (e) {
    const reason = `containerd did not start: ${e instanceof Error ? e.message.slice(0, 500) : String(e)}`;
    return { json: { scenario: 'real-node', size: o.size, skipped: true, reason }, summary: `real-node: skipped: ${reason}`, series: [] };
  }
  const stateDir = await mkdtemp(join(tmpdir(), 'skiff-bench-real-'));
  const bed = await startBed({ controlPlanes: 1, cpuProfDir: o.cpuProfDir });
  const cp = bed.cps[0];
  const log = pino({ level: 'silent' });
  const raw = new CriRuntime({ address: containerd.address, nodeName: 'raw-cri' });
  let agent: NodeAgent | undefined;
  let tracker: PodTracker | undefined;
  const api = cp ? connect(cp.address) : undefined;
  try {
    if (!cp || !api) throw new Error('no control plane');
    // Raw CRI first, while nothing else runs: one pod, then a burst of o.pods at once.
    await raw.ensureImage(IMAGE, 'IfNotPresent');
    const rawStart = async (i: number): Promise<number> => {
      const p = pod(`raw-${i}`, `raw-uid-${i}-${Date.now()}`);
      const paths = podPaths(join(stateDir, 'raw'), { namespace: 'default', name: p.metadata?.name ?? '', uid: p.metadata?.uid ?? '' });
      const s = Date.now();
      const sbCfg = sandboxConfig(p, paths);
      const sb = await raw.startSandbox(sbCfg);
      const c = p.spec?.containers[0];
      if (!c) throw new Error('pod has no container');
      const h = await raw.startContainer(sb, sbCfg, containerConfig(p, c, 0, []));
      const ms = Date.now() - s;
      await raw.stopContainer(h, 0);
      await raw.destroyContainer(h);
      await raw.stopSandbox(sb);
      await raw.destroySandbox(sb);
      return ms;
    };
    const rawOne = await rawStart(0);
    const rawBurst = await Promise.all(Array.from({ length: o.pods }, (_, i) => rawStart(i + 1)));
    // Not at --size smoke (CI): a minute of starts that the test does not need.
    const sweep = o.size === 'smoke' ? [] : await criConcurrencySweep(raw, stateDir, o.pods, [1, 2, 4, 8, 16, o.pods], 2);

    agent = new NodeAgent({
      nodeName: NODE, controlPlane: cp.address, tls: TEST_CLIENT_TLS, serving: TEST_AGENT_SERVING, runtime: new CriRuntime({ address: containerd.address, nodeName: NODE }),
      stateDir: join(stateDir, 'agent'), podCIDR: containerd.subnet, listen: '', log, maxParallelStarts: o.maxParallelStarts,
    });
    await agent.start();
    await waitNodesReady(api, 1, 60_000);
    tracker = new PodTracker(api);
    const t = tracker;
    t.start();

    await api.create({ object: wrap('Pod', pod('one')) });
    await t.until(() => t.running((p) => p.name === 'one').length === 1, o.timeoutMs, 'one pod Running');
    const single = t.running((p) => p.name === 'one').map((p) => (p.runningAt ?? 0) - p.seenAt);
    // The whole path of a Deployment's start, traced per pod (created -> ... -> client sees
    // Running), then removed so the node is as before for the burst of bound pods.
    const trace = new PodTrace(t, [agent], (name) => name.startsWith('trace-'));
    await api.create({ object: wrap('Deployment', deployment('trace', o.pods, IMAGE)) });
    await t.until(() => t.running((p) => p.name.startsWith('trace-')).length >= o.pods, o.timeoutMs, `${o.pods} Deployment pods Running`);
    const traced = trace.report();
    await api.delete({ kind: 'Deployment', namespace: 'default', name: 'trace', propagationPolicy: 'Foreground' });
    await t.until(() => [...t.pods.values()].every((p) => !p.name.startsWith('trace-') || p.deleted), o.timeoutMs, 'Deployment pods deleted');
    const tBurst = Date.now();
    await Promise.all(Array.from({ length: o.pods }, (_, i) => api.create({ object: wrap('Pod', pod(`burst-${i}`)) })));
    await t.until(() => t.running((p) => p.name.startsWith('burst-')).length >= o.pods, o.timeoutMs, `${o.pods} pods Running`);
    const burst = t.running((p) => p.name.startsWith('burst-'));
    const idle = await idleAgent(cp.address, containerd, stateDir, t, o.timeoutMs, api);
    const json = {
      scenario: 'real-node', size: o.size, skipped: false, pods: o.pods + 1,
      bindToRunningMs: { one: summarize(single), burst: summarize(burst.map((p) => (p.runningAt ?? 0) - p.seenAt)) },
      rawCriMs: { one: summarize([rawOne]), burst: summarize(rawBurst) },
      // RunPodSandbox + CreateContainer + StartContainer for o.pods pods with at most k in flight.
      rawCriByConcurrency: sweep,
      deploymentTrace: { replicas: o.pods, ...traced, note: 'ms; created = creationTimestamp (ms precision); scheduled and clientRunning from the bench watch; the rest from the agent (same process)' },
      agentMaxParallelStarts: agent.maxParallelStarts,
      ratioP50: {
        one: Math.round(((single[0] ?? NaN) / rawOne) * 100) / 100,
        burst: Math.round((summarize(burst.map((p) => (p.runningAt ?? 0) - p.seenAt)).p50 / summarize(rawBurst).p50) * 100) / 100,
      },
      allRunning: true,
      idleAgent: idle,
      note: 'bind = pod created with spec.nodeName, timed from when the bench watch first sees it',
    };
    return {
      json,
      summary: [
        `real-node: bind->Running one pod ${single[0] ?? NaN} ms vs raw CRI ${rawOne} ms (x${json.ratioP50.one})`,
        `  burst of ${o.pods}: p50 ${json.bindToRunningMs.burst.p50} ms vs raw CRI p50 ${json.rawCriMs.burst.p50} ms (x${json.ratioP50.burst})`,
        `  raw CRI, ${o.pods} pods all started, best of 2, by concurrency: ${sweep.map((s) => `${s.concurrency}: ${s.allStartedMsBest} ms`).join(', ')}`,
        `  Deployment of ${o.pods}: created -> all Running p50 ${traced.total.p50} ms p99 ${traced.total.p99} ms (agent starts at most ${agent.maxParallelStarts ?? 'unbounded'} at once)`,
        traceSummary(traced),
        `  skiff-node-agent process idle with ${idle.pods} pods: RSS ${idle.rssMB} MB (peak ${idle.peakRssMB}), ${idle.cpuSecondsIdle} CPU s over ${idle.idleSeconds} s`,
      ].join('\n'),
      series: [{ label: 'pods Running (burst)', points: runningSeries(burst.map((p) => ((p.runningAt ?? 0) - tBurst) / 1000)) }],
    };
  } finally {
    tracker?.stop();
    await agent?.stop();
    await agent?.runtime.close();
    await raw.close();
    api?.close();
    await bed.close();
    await containerd.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}
