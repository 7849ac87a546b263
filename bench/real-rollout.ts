// A rolling update on a real node, Skiff alone, traced per wave: one agent (in this process, so
// its events share the bench's clock) on a private containerd, a Deployment of --pods replicas
// of busybox `sleep` with maxSurge 0 / maxUnavailable 25% (12 of 50: the vs-swarm workload),
// then --rounds image changes back and forth. Each round reports the time until every new pod
// runs and no old one does (what vs-swarm times) and where it went (rollout-timeline.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { WatchEvent } from '../proto/gen/skiff/v1/api.js';
import { NodeAgent } from '../node-agent/agent.js';
import { CriRuntime } from '../node-agent/runtime/cri/driver.js';
import { startContainerd } from '../test/helpers/containerd.js';
import { TEST_AGENT_SERVING, TEST_CLIENT_TLS } from '../test/helpers/tls.js';
import { connect, createDeployment, deployment, startBed, waitNodesReady } from './cluster.js';
import { PodTracker } from './pod-tracker.js';
import { realNodeUnavailable } from './real-node.js';
import { rolloutTimeline, timelineSummary, type PodLife, type RolloutTimeline, type RsMark } from './rollout-timeline.js';
import type { ScenarioOptions, ScenarioResult } from './scenario.js';
import { procUsage } from './stats.js';

const NAME = 'roll';
const IMAGES = ['skiff/hello:1', 'skiff/hello:2'] as const;
const NODE = 'real-rollout';

export async function realRollout(o: ScenarioOptions): Promise<ScenarioResult> {
  const why = realNodeUnavailable();
  if (why) return { json: { scenario: 'real-rollout', size: o.size, skipped: true, reason: why }, summary: `real-rollout: skipped: ${why}`, series: [] };
  const R = o.pods;
  const maxUnavailable = Math.max(1, Math.floor(R / 4));
  const rounds = o.rounds ?? 3;
  const containerd = await startContainerd();
  const stateDir = await mkdtemp(join(tmpdir(), 'skiff-bench-roll-'));
  const bed = await startBed({ controlPlanes: 1, cpuProfDir: o.cpuProfDir });
  const cp = bed.cps[0];
  const api = cp ? connect(cp.address) : undefined;
  let agent: NodeAgent | undefined;
  let tracker: PodTracker | undefined;
  let rsWatch: ClientReadableStream<WatchEvent> | undefined;
  try {
    if (!cp || !api) throw new Error('no control plane');
    agent = new NodeAgent({
      nodeName: NODE, controlPlane: cp.address, tls: TEST_CLIENT_TLS, serving: TEST_AGENT_SERVING,
      runtime: new CriRuntime({ address: containerd.address, nodeName: NODE }), stateDir: join(stateDir, 'agent'),
      podCIDR: containerd.subnet, listen: '', log: pino({ level: 'silent' }), maxParallelStarts: o.maxParallelStarts,
    });
    await agent.start();
    await waitNodesReady(api, 1, 60_000);
    const t = (tracker = new PodTracker(api));
    // Per pod (uid): which template, and the marks of its life.
    const lives = new Map<string, PodLife & { image: string; running: boolean }>();
    const nameToUid = new Map<string, string>();
    let current: string = IMAGES[0];
    t.onPod((type, pod, now) => {
      const uid = pod.metadata?.uid ?? '';
      const image = pod.spec?.containers[0]?.image ?? '';
      let l = lives.get(uid);
      if (!l) {
        l = { side: image === current ? 'new' : 'old', image, running: false, created: Date.parse(pod.metadata?.creationTimestamp ?? '') };
        lives.set(uid, l);
        nameToUid.set(`${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`, uid);
      }
      if (l.scheduled === undefined && pod.spec?.nodeName) l.scheduled = now;
      if (l.terminating === undefined && pod.metadata?.deletionTimestamp) l.terminating = now;
      l.running = type !== 'DELETED' && !!pod.status?.containerStatuses.some((c) => c.state?.running);
      if (l.running && l.clientRunning === undefined) l.clientRunning = now;
      if (type === 'DELETED') l.deleted = now;
    });
    agent.events.on('statusPosted', ({ pod, phase }) => {
      const l = lives.get(nameToUid.get(pod) ?? '');
      if (l && phase === 'Running' && l.runningReported === undefined) l.runningReported = Date.now();
    });
    agent.events.on('podTornDown', ({ uid }) => {
      const l = lives.get(uid);
      if (l && l.tornDown === undefined) l.tornDown = Date.now();
    });
    t.start();
    const rsMarks: (RsMark & { image: string })[] = [];
    rsWatch = api.watch({ kind: 'ReplicaSet', namespace: 'default', resourceVersion: '' });
    rsWatch.on('data', (e: WatchEvent) => {
      const rs = e.object?.object?.$case === 'replicaSet' ? e.object.object.value : undefined;
      if (!rs) return;
      const image = rs.spec?.template?.spec?.containers[0]?.image ?? '';
      rsMarks.push({ at: Date.now(), side: image === current ? 'new' : 'old', image, spec: rs.spec?.replicas ?? 0, replicas: rs.status?.replicas ?? 0, available: rs.status?.availableReplicas ?? 0 });
    });
    rsWatch.on('error', () => undefined); // cancelled at the end
    const census = (image: string): number => [...lives.values()].filter((l) => l.running && l.image === image).length;

    const t0 = Date.now();
    await createDeployment(api, deployment(NAME, R, current, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable } } }));
    await t.until(() => census(current) === R, o.timeoutMs, `${R} pods running`);
    const applyMs = Date.now() - t0;
    // Runtime calls of the agent per round: count and total seconds per CRI operation.
    const runtimeCalls = async (): Promise<Record<string, { count: number; seconds: number }>> => {
      const out: Record<string, { count: number; seconds: number }> = {};
      for (const v of (await agent!.metrics.runtimeLatency.get()).values) {
        const op = String(v.labels.operation);
        const e = (out[op] ??= { count: 0, seconds: 0 });
        if (v.metricName?.endsWith('_count')) e.count += v.value;
        if (v.metricName?.endsWith('_sum')) e.seconds += v.value;
      }
      return out;
    };
    const callsPerRound: Record<string, { count: number; seconds: number }>[] = [];
    const timelines: RolloutTimeline[] = [];
    for (let r = 0; r < rounds; r++) {
      const from = current;
      const to = IMAGES[(r + 1) % 2]!;
      // Marks belong to one round: every pod and ReplicaSet seen from now is sided by `to`.
      lives.clear();
      rsMarks.length = 0;
      const list = await api.list({ kind: 'Pod', namespace: 'default' });
      for (const res of list.items) {
        const pod = res.object?.$case === 'pod' ? res.object.value : undefined;
        if (pod) lives.set(pod.metadata?.uid ?? '', { side: 'old', image: from, running: true });
      }
      current = to;
      const callsBefore = await runtimeCalls();
      const tStart = Date.now();
      await api.patch({ kind: 'Deployment', namespace: 'default', name: NAME, patch: JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'app', image: to }] } } } }) });
      await t.until(() => census(to) === R && census(from) === 0, o.timeoutMs, `round ${r + 1}: ${R} pods of ${to} running and none of ${from}`);
      const tDone = Date.now();
      // The last old pods' teardown and the ReplicaSet's last status, for the phases.
      await t.until(() => [...lives.values()].every((l) => l.side === 'new' || (l.deleted !== undefined && l.tornDown !== undefined)), o.timeoutMs, `round ${r + 1}: old pods deleted and torn down`);
      const callsAfter = await runtimeCalls();
      const delta: Record<string, { count: number; seconds: number }> = {};
      for (const [op, a] of Object.entries(callsAfter)) {
        const count = a.count - (callsBefore[op]?.count ?? 0);
        if (count > 0) delta[op] = { count, seconds: Math.round((a.seconds - (callsBefore[op]?.seconds ?? 0)) * 100) / 100 };
      }
      callsPerRound.push(delta);
      timelines.push(rolloutTimeline(tStart, tDone, rsMarks.map((m) => ({ ...m, side: m.image === to ? 'new' : 'old' })), [...lives.values()]));
    }
    const rss = { controlPlaneMB: (await procUsage(cp.pid)).rssMB };
    const totals = timelines.map((x) => x.totalMs);
    const json = {
      scenario: 'real-rollout', size: o.size, skipped: false, replicas: R, maxSurge: 0, maxUnavailable, applyMs, rollingUpdateMs: totals, rounds: timelines, runtimeCallsPerRound: callsPerRound,
      agentMaxParallelStarts: agent.maxParallelStarts, ...rss,
      note: 'rollingUpdateMs: template change -> every new pod running and no old one (pod watch; vs-swarm polls List every 50 ms); the agent runs in the bench process',
    };
    return {
      json,
      summary: [
        `real-rollout: ${R} replicas, maxSurge 0 / maxUnavailable ${maxUnavailable}; apply ${applyMs} ms; rolling updates ${totals.join(', ')} ms`,
        ...timelines.map((x, i) => `  round ${i + 1}:\n${timelineSummary(x, '    ')}\n    runtime calls (count, total s): ${Object.entries(callsPerRound[i] ?? {}).map(([op, c]) => `${op} ${c.count} ${c.seconds}`).join(', ')}`),
      ].join('\n'),
      series: [],
    };
  } finally {
    rsWatch?.cancel();
    tracker?.stop();
    await api?.delete({ kind: 'Deployment', namespace: 'default', name: NAME }).catch(() => undefined); // absent when the create failed
    await agent?.stop();
    await agent?.runtime.close();
    api?.close();
    await bed.close();
    await containerd.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}
