// Density, after ClusterLoader2's method, on N simulated nodes, in two phases on one cluster:
// (a) saturation: Deployments totalling P pods, all created at once, run as fast as the cluster
// takes them; (b) latency: then, on the saturated cluster, bare pods created at a steady rate
// (--rate per second for --duration seconds). Both report creation -> Running from each pod's
// creationTimestamp (milliseconds, the API server's clock, this machine's) to when the bench's
// watch first sees it Running, a per-phase trace, pods/s, and the CPU-ms per pod of each
// process (control plane, etcd, this process with every agent) from /proc/<pid>/stat deltas.
// Saturation also gives API latency, etcd writes per pod and the etcd write ceiling of the run.
import { wrap } from '../proto/api/kinds.js';
import { fromManifest } from '../proto/api/manifest.js';
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import type { TestApi } from '../control-plane/api/testing.js';
import { connect, createDeployment, deployment, heapSnapshot, sleep, startBed, startNodes, waitNodesReady } from './cluster.js';
import { measureCeiling } from './etcd-ceiling.js';
import { PodTrace, traceSummary, type TraceReport } from './pod-trace.js';
import { PodTracker, type PodTimes } from './pod-tracker.js';
import { cpuMs, histogramQuantiles, procUsage, round1, round3, scrape, summarize, sumOf, type Summary } from './stats.js';
import type { ScenarioOptions, ScenarioResult } from './scenario.js';
import { runningSeries } from './svg.js';

const MUTATING = new Set(['create', 'update', 'patch', 'delete', 'apply']);
const PODS_PER_DEPLOYMENT = 100;
const IMAGE = 'docker.io/skiff/hello:1';

type Procs = Record<'controlPlane' | 'etcd' | 'benchProcess', number>;

async function cpuOf(procs: Procs): Promise<Procs> {
  const [controlPlane, etcd, benchProcess] = await Promise.all([cpuMs(procs.controlPlane), cpuMs(procs.etcd), cpuMs(procs.benchProcess)]);
  return { controlPlane, etcd, benchProcess };
}

function perPod(a: Procs, b: Procs, pods: number): Procs & { note: string } {
  const d = (k: keyof Procs): number => round3((b[k] - a[k]) / Math.max(1, pods));
  return {
    controlPlane: d('controlPlane'), etcd: d('etcd'), benchProcess: d('benchProcess'),
    note: 'CPU ms (user+system, /proc/<pid>/stat, 10 ms ticks) over the phase / pods; benchProcess hosts every simulated agent and the bench watch',
  };
}

/** creation -> Running for pods the watch saw Running: from creationTimestamp (ms) and from the watch's first sight. */
function startup(pods: readonly PodTimes[]): { fromCreation: Summary; fromWatchSeen: Summary } {
  return {
    fromCreation: summarize(pods.map((p) => (p.runningAt ?? 0) - p.createdTs)),
    fromWatchSeen: summarize(pods.map((p) => (p.runningAt ?? 0) - p.seenAt)),
  };
}

function barePod(name: string): Pod {
  return fromManifest({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { bench: 'latency' } },
    spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: IMAGE }] },
  }).object as Pod;
}

/**
 * Creates rate*seconds pods at a steady rate (each call started on time, not after the one
 * before answered); returns each create call's duration.
 */
async function createAtRate(api: TestApi, rate: number, seconds: number): Promise<{ callMs: number[]; createSeconds: number; failed: number }> {
  const total = Math.round(rate * seconds);
  const callMs: number[] = [];
  const calls: Promise<void>[] = [];
  let failed = 0;
  const t0 = Date.now();
  for (let i = 0; i < total;) {
    const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * rate) + 1);
    for (; i < due; i++) {
      const s = Date.now();
      calls.push(api.create({ object: wrap('Pod', barePod(`latency-${i}`)) }).then(
        () => void callMs.push(Date.now() - s),
        () => void failed++,
      ));
    }
    await sleep(Math.max(1, Math.min(20, 1000 / rate)));
  }
  await Promise.all(calls);
  return { callMs, createSeconds: (Date.now() - t0) / 1000, failed };
}

export async function density(o: ScenarioOptions): Promise<ScenarioResult> {
  const bed = await startBed({ controlPlanes: 1, cpuProfDir: o.cpuProfDir, heapSnapshotDir: o.heapSnapshotDir });
  const cp = bed.cps[0];
  if (!cp) throw new Error('no control plane');
  const api = connect(cp.address);
  const tracker = new PodTracker(api);
  const nodes = await startNodes(o.nodes, cp.address, { startMs: o.startMs });
  const procs: Procs = { controlPlane: cp.pid, etcd: bed.etcd.process.pid ?? 0, benchProcess: process.pid };
  const satTrace = new PodTrace(tracker, nodes.agents, (n) => n.startsWith('density-'));
  const latTrace = new PodTrace(tracker, nodes.agents, (n) => n.startsWith('latency-'));
  try {
    await waitNodesReady(api, o.nodes, 60_000 + o.nodes * 100);
    tracker.start();
    const deployments = Math.max(1, Math.ceil(o.pods / PODS_PER_DEPLOYMENT));
    const [cp0, etcd0, cpu0, procCpu0] = await Promise.all([scrape(cp.metricsUrl), scrape(`${bed.etcd.endpoint}/metrics`), procUsage(cp.pid), cpuOf(procs)]);
    const t0 = Date.now();
    // Own mutating calls, timed from this side: one create per Deployment, all in flight.
    const ownLatencies: number[] = [];
    await Promise.all(Array.from({ length: deployments }, async (_, i) => {
      const replicas = Math.min(PODS_PER_DEPLOYMENT, o.pods - i * PODS_PER_DEPLOYMENT);
      const s = Date.now();
      await createDeployment(api, deployment(`density-${i}`, replicas, IMAGE));
      ownLatencies.push(Date.now() - s);
    }));
    let peakCpRss = 0;
    const sampler = setInterval(() => {
      procUsage(cp.pid).then((u) => (peakCpRss = Math.max(peakCpRss, u.rssMB)), () => undefined);
    }, 1000);
    const isSat = (p: PodTimes): boolean => p.name.startsWith('density-');
    try {
      await tracker.until(() => tracker.running(isSat).length >= o.pods, o.timeoutMs, `${o.pods} pods Running`);
    } finally {
      clearInterval(sampler);
    }
    const pods = tracker.running(isSat);
    const tEnd = Math.max(...pods.map((p) => p.runningAt ?? 0));
    const [cp1, etcd1, cpu1, procCpu1] = await Promise.all([scrape(cp.metricsUrl), scrape(`${bed.etcd.endpoint}/metrics`), procUsage(cp.pid), cpuOf(procs)]);
    const satCpu = perPod(procCpu0, procCpu1, o.pods);
    const satTraced = satTrace.report();
    // Scale-down of the own patches: one patch per Deployment (annotation) to time Patch too.
    await Promise.all(Array.from({ length: Math.min(deployments, 20) }, async (_, i) => {
      const s = Date.now();
      await api.patch({ kind: 'Deployment', namespace: 'default', name: `density-${i}`, patch: JSON.stringify({ metadata: { annotations: { bench: 'patched' } } }) });
      ownLatencies.push(Date.now() - s);
    }));
    const secs = (tEnd - t0) / 1000;
    const podsPerSec = o.pods / secs;
    const writes = ['etcd_mvcc_put_total', 'etcd_mvcc_delete_total'].reduce((a, n) => a + sumOf(etcd1, n) - sumOf(etcd0, n), 0);
    const txns = sumOf(etcd1, 'etcd_mvcc_txn_total') - sumOf(etcd0, 'etcd_mvcc_txn_total');
    const writesPerPod = writes / o.pods;
    const apiHist = histogramQuantiles(cp0, cp1, 'skiff_api_request_duration_seconds', (l) => MUTATING.has(l.verb ?? ''), [0.5, 0.99]);
    // The control plane's own view (creation -> first seen Running), unaffected by this process
    // falling behind on its watch.
    const cpStartup = histogramQuantiles(cp0, cp1, 'skiff_pod_startup_latency_seconds', () => true, [0.5, 0.9, 0.99]);
    const satStartup = startup(pods);
    // Early, on stderr: a long run whose latency phase fails still leaves its saturation figures.
    console.error(`density saturation done: ${o.pods} pods in ${((tEnd - t0) / 1000).toFixed(1)} s, creation -> Running p50 ${satStartup.fromCreation.p50} p99 ${satStartup.fromCreation.p99} ms, control plane ${satCpu.controlPlane} CPU-ms/pod`);

    // (b) Latency: bare pods at a steady rate on the saturated cluster.
    const rate = o.rate ?? 0;
    const duration = o.durationSeconds ?? 0;
    let latency: Record<string, unknown> | undefined;
    let latencyLines: string[] = [];
    let latPods: PodTimes[] = [];
    let tLat = 0;
    if (rate > 0 && duration > 0) {
      const want = Math.round(rate * duration);
      const isLat = (p: PodTimes): boolean => p.name.startsWith('latency-');
      const before = await cpuOf(procs);
      tLat = Date.now();
      const made = await createAtRate(api, rate, duration);
      if (made.failed) throw new Error(`${made.failed} of ${want} latency pods were not created`);
      // A rate the cluster cannot keep up with is a result, not an error: report how far it got.
      const allRan = await tracker.waitFor(() => tracker.running(isLat).length >= want, o.timeoutMs);
      latPods = tracker.running(isLat);
      const after = await cpuOf(procs);
      const st = startup(latPods);
      const traced: TraceReport = latTrace.report();
      const lastRunning = Math.max(...latPods.map((p) => p.runningAt ?? 0));
      const createdPerSec = round1(want / made.createSeconds);
      latency = {
        rate, durationSeconds: duration, pods: want,
        podsRunning: latPods.length, allRunning: allRan,
        createdPerSec,
        runningPerSec: latPods.length ? round1(latPods.length / ((lastRunning - tLat) / 1000)) : 0,
        createCallMs: summarize(made.callMs),
        podStartupMs: { ...st, trace: traced },
        cpuMsPerPod: perPod(before, after, want),
      };
      latencyLines = [
        `density latency phase: ${want} pods at ${rate}/s for ${duration} s (created at ${createdPerSec}/s) on the saturated cluster${allRan ? '' : `; only ${latPods.length} Running after ${o.timeoutMs / 1000} s: the figures below are of those`}`,
        `  creation -> Running ms: p50 ${st.fromCreation.p50} p90 ${st.fromCreation.p90} p99 ${st.fromCreation.p99} max ${st.fromCreation.max}; create call p50 ${summarize(made.callMs).p50} p99 ${summarize(made.callMs).p99}`,
        traceSummary(traced),
        `  CPU ms per pod: control plane ${perPod(before, after, want).controlPlane}, etcd ${perPod(before, after, want).etcd}, bench process with agents ${perPod(before, after, want).benchProcess}`,
      ];
    }

    const cpRss = await procUsage(cp.pid);
    const snapshot = o.heapSnapshotDir ? await heapSnapshot(cp, o.heapSnapshotDir) : undefined;
    const benchRss = process.memoryUsage().rss / 2 ** 20;
    tracker.stop();
    const ceiling = await measureCeiling(bed.etcd.endpoint, { seconds: o.ceilingSeconds, concurrency: 256, valueBytes: 1024, batchSize: 16 });
    const ideal = ceiling.singlePutsPerSec / writesPerPod;
    const idealBatched = ceiling.batchedPutsPerSec / writesPerPod;
    const result = {
      scenario: 'density',
      size: o.size,
      nodes: o.nodes,
      pods: o.pods,
      deployments,
      fakeStartLatencyMs: o.startMs,
      podsRunning: pods.length,
      allRunning: pods.length >= o.pods,
      podStartupMs: {
        // The headline: creationTimestamp (ms) -> the bench watch first sees Running.
        fromCreation: satStartup.fromCreation,
        fromWatchSeen: satStartup.fromWatchSeen,
        // The two legs of it: waiting to be scheduled, then the node agent starting the pod.
        seenToBound: summarize(pods.map((p) => (p.boundAt ?? p.seenAt) - p.seenAt)),
        boundToRunning: summarize(pods.map((p) => (p.runningAt ?? 0) - (p.boundAt ?? p.seenAt))),
        trace: satTraced,
        controlPlaneHistogram: { count: cpStartup.count, ...cpStartup.quantilesMs, note: 'skiff_pod_startup_latency_seconds: creationTimestamp -> Running, bucket upper bounds' },
      },
      throughput: { secondsToAllRunning: round3(secs), podsRunningPerSec: round1(podsPerSec) },
      cpuMsPerPod: satCpu,
      mutatingApiLatencyMs: {
        own: summarize(ownLatencies),
        controlPlaneHistogram: { count: apiHist.count, ...apiHist.quantilesMs, note: 'upper bound of the histogram bucket' },
      },
      controlPlane: {
        rssMB: cpRss.rssMB, peakRssMB: cpRss.peakRssMB, sampledPeakRssMB: round1(Math.max(peakCpRss, cpRss.rssMB)),
        cpuSecondsDuringBurst: round1(cpu1.cpuSeconds - cpu0.cpuSeconds), cpuSecondsTotal: cpu1.cpuSeconds,
        // Where the RSS goes, from the process's own prom-client default metrics.
        memoryMB: {
          heapUsed: round1(sumOf(cp1, 'nodejs_heap_size_used_bytes') / 2 ** 20),
          heapTotal: round1(sumOf(cp1, 'nodejs_heap_size_total_bytes') / 2 ** 20),
          external: round1(sumOf(cp1, 'nodejs_external_memory_bytes') / 2 ** 20),
        },
        ...(snapshot ? { heapSnapshot: snapshot } : {}),
      },
      latency: latency ?? { skipped: true },
      agents: { processRssMB: round1(benchRss), rssPerNodeMB: round3(benchRss / o.nodes), note: 'bench process RSS (all agents + pod watch) / nodes' },
      // The bench's own pod watch resumed this often after the API server cut it for lagging.
      trackerWatch: { resumes: tracker.resumes, relists: tracker.relists },
      etcd: { writes, txns, writesPerPod: round1(writesPerPod), note: 'etcd_mvcc_put_total + etcd_mvcc_delete_total delta over the burst (includes lease/heartbeat and event writes)' },
      etcdCeiling: ceiling,
      ratio: {
        singlePuts: round3(podsPerSec / ideal),
        batchedPuts: round3(podsPerSec / idealBatched),
        idealPodsPerSecSingle: round1(ideal),
        idealPodsPerSecBatched: round1(idealBatched),
      },
    };
    const fc = satStartup.fromCreation;
    return {
      json: result,
      summary: [
        `density saturation: ${pods.length}/${o.pods} pods on ${o.nodes} nodes Running in ${secs.toFixed(2)} s (${podsPerSec.toFixed(1)} pods/s)`,
        `  creation -> Running ms: p50 ${fc.p50} p90 ${fc.p90} p99 ${fc.p99} max ${fc.max} (watch-seen -> Running p50 ${satStartup.fromWatchSeen.p50} p99 ${satStartup.fromWatchSeen.p99})`,
        traceSummary(satTraced),
        `  CPU ms per pod: control plane ${satCpu.controlPlane}, etcd ${satCpu.etcd}, bench process with agents ${satCpu.benchProcess}`,
        `  control plane's startup histogram (creation -> Running): p50<=${cpStartup.quantilesMs.p50} p90<=${cpStartup.quantilesMs.p90} p99<=${cpStartup.quantilesMs.p99} ms (${cpStartup.count} pods)${tracker.relists ? `; this process's watch fell behind and re-listed ${tracker.relists}x, so its times above read late` : ''}`,
        `  mutating API ms: own p50 ${result.mutatingApiLatencyMs.own.p50} p99 ${result.mutatingApiLatencyMs.own.p99}; server histogram p50<=${apiHist.quantilesMs.p50} p99<=${apiHist.quantilesMs.p99} (${apiHist.count} calls)`,
        `  control plane RSS ${cpRss.rssMB} MB (peak ${cpRss.peakRssMB}), CPU ${result.controlPlane.cpuSecondsDuringBurst} s; agents ${result.agents.rssPerNodeMB} MB/node`,
        `  etcd ${writesPerPod.toFixed(1)} writes/pod; ceiling ${ceiling.singlePutsPerSec} puts/s single, ${ceiling.batchedPutsPerSec} batched x${ceiling.batchSize}; ratio ${result.ratio.singlePuts} (batched ${result.ratio.batchedPuts})`,
        ...latencyLines,
      ].join('\n'),
      series: [
        { label: `pods Running (${o.nodes} nodes)`, points: runningSeries(pods.map((p) => ((p.runningAt ?? 0) - t0) / 1000)) },
        ...(latPods.length ? [{ label: 'latency pods Running', points: runningSeries(latPods.map((p) => ((p.runningAt ?? 0) - tLat) / 1000)) }] : []),
      ],
    };
  } finally {
    tracker.stop();
    await nodes.stop();
    api.close();
    await bed.close();
  }
}
