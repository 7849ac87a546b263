// Rollout: one Deployment of R replicas over N nodes, then an image change with maxSurge 25%
// (maxUnavailable 25%, Kubernetes' defaults). Time to complete against the ideal (waves x one
// pod's start time, measured in the same run), with the rolling-update bounds checked at every
// pod watch event.
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import { connect, createDeployment, deployment, startBed, startNodes, waitNodesReady } from './cluster.js';
import { PodTracker } from './pod-tracker.js';
import type { ScenarioOptions, ScenarioResult } from './scenario.js';
import { round3, summarize } from './stats.js';
import { runningSeries } from './svg.js';

const NAME = 'rollout';
const V1 = 'docker.io/skiff/hello:1';
const V2 = 'docker.io/skiff/hello:2';

interface Live { image: string; ready: boolean; terminating: boolean }

const isReady = (p: Pod): boolean =>
  p.status?.phase === 'Running' && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export async function rollout(o: ScenarioOptions): Promise<ScenarioResult> {
  const R = o.pods;
  const maxSurge = Math.ceil(R * 0.25);
  const maxUnavailable = Math.floor(R * 0.25);
  const bed = await startBed({ controlPlanes: 1, cpuProfDir: o.cpuProfDir });
  const cp = bed.cps[0];
  if (!cp) throw new Error('no control plane');
  const api = connect(cp.address);
  const tracker = new PodTracker(api);
  const nodes = await startNodes(o.nodes, cp.address, { startMs: o.startMs });
  const live = new Map<string, Live>();
  const violations: { atMs: number; pods: number; available: number }[] = [];
  let checking = false;
  let events = 0;
  let maxPods = 0;
  let minAvailable = Infinity;
  let tPatch = 0;
  tracker.onPod((type, pod, now) => {
    const uid = pod.metadata?.uid ?? '';
    if (type === 'DELETED') live.delete(uid);
    else live.set(uid, { image: pod.spec?.containers[0]?.image ?? '', ready: isReady(pod), terminating: !!pod.metadata?.deletionTimestamp });
    if (!checking) return;
    events++;
    let pods = 0;
    let available = 0;
    for (const l of live.values()) {
      if (l.terminating) continue;
      pods++;
      if (l.ready) available++;
    }
    maxPods = Math.max(maxPods, pods);
    minAvailable = Math.min(minAvailable, available);
    if (pods > R + maxSurge || available < R - maxUnavailable) violations.push({ atMs: now - tPatch, pods, available });
  });
  const count = (f: (l: Live) => boolean): number => [...live.values()].filter(f).length;
  try {
    await waitNodesReady(api, o.nodes, 60_000 + o.nodes * 100);
    tracker.start();
    const t0 = Date.now();
    await createDeployment(api, deployment(NAME, R, V1, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } }));
    await tracker.until(() => count((l) => l.ready && !l.terminating && l.image === V1) >= R, o.timeoutMs, `${R} v1 pods ready`);
    const initialSecs = (Date.now() - t0) / 1000;
    const startup = summarize(tracker.running().map((p) => (p.runningAt ?? 0) - p.seenAt));
    const v1Running = tracker.running().map((p) => ((p.runningAt ?? 0) - t0) / 1000);
    checking = true;
    tPatch = Date.now();
    await api.patch({ kind: 'Deployment', namespace: 'default', name: NAME, patch: JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'app', image: V2 }] } } } }) });
    await tracker.until(
      () => count((l) => !l.terminating) === R && count((l) => l.ready && !l.terminating && l.image === V2) === R,
      o.timeoutMs, `${R} v2 pods ready and no v1 left`,
    );
    const rolloutSecs = (Date.now() - tPatch) / 1000;
    checking = false;
    const waves = Math.ceil(R / (maxSurge + maxUnavailable));
    const idealSecs = (waves * startup.p50) / 1000;
    const v2Running = tracker.running((p) => p.seenAt >= tPatch).map((p) => ((p.runningAt ?? 0) - tPatch) / 1000);
    const json = {
      scenario: 'rollout', size: o.size, nodes: o.nodes, replicas: R, maxSurge, maxUnavailable, fakeStartLatencyMs: o.startMs,
      initial: { secondsToAllReady: round3(initialSecs), podStartupMs: startup },
      rollout: {
        seconds: round3(rolloutSecs), waves, perWaveStartMs: startup.p50, idealSeconds: round3(idealSecs),
        vsIdeal: round3(rolloutSecs / idealSecs), newPodsRunning: v2Running.length,
      },
      invariants: {
        eventsChecked: events, maxPods, limitPods: R + maxSurge, minAvailable, limitAvailable: R - maxUnavailable,
        violations: violations.length, firstViolations: violations.slice(0, 5),
      },
      allRunning: true,
    };
    return {
      json,
      summary: [
        `rollout: ${R} replicas on ${o.nodes} nodes; image change done in ${rolloutSecs.toFixed(2)} s vs ideal ${idealSecs.toFixed(2)} s (${waves} waves x ${startup.p50} ms)`,
        `  invariants over ${events} events: max pods ${maxPods} (<= ${R + maxSurge}), min available ${minAvailable} (>= ${R - maxUnavailable}); violations ${violations.length}`,
      ].join('\n'),
      series: [
        { label: 'v1 pods Running (since create)', points: runningSeries(v1Running) },
        { label: 'v2 pods Running (since image change)', points: runningSeries(v2Running) },
      ],
    };
  } finally {
    tracker.stop();
    await nodes.stop();
    api.close();
    await bed.close();
  }
}
