// Density: Deployments totalling P pods over N simulated nodes, created as fast as the API
// takes them. Pod startup, throughput, API latency, control-plane cost and etcd writes per pod,
// next to the etcd write ceiling measured on the same etcd in the same run.
import { connect, createDeployment, deployment, heapSnapshot, startBed, startNodes, waitNodesReady } from './cluster.js';
import { measureCeiling } from './etcd-ceiling.js';
import { PodTracker } from './pod-tracker.js';
import { histogramQuantiles, procUsage, round1, round3, scrape, summarize, sumOf } from './stats.js';
import type { ScenarioOptions, ScenarioResult } from './scenario.js';
import { runningSeries } from './svg.js';

const MUTATING = new Set(['create', 'update', 'patch', 'delete', 'apply']);
const PODS_PER_DEPLOYMENT = 100;

export async function density(o: ScenarioOptions): Promise<ScenarioResult> {
  const bed = await startBed({ controlPlanes: 1, cpuProfDir: o.cpuProfDir, heapSnapshotDir: o.heapSnapshotDir });
  const cp = bed.cps[0];
  if (!cp) throw new Error('no control plane');
  const api = connect(cp.address);
  const tracker = new PodTracker(api);
  const nodes = await startNodes(o.nodes, cp.address, { startMs: o.startMs });
  try {
    await waitNodesReady(api, o.nodes, 60_000 + o.nodes * 100);
    tracker.start();
    const deployments = Math.max(1, Math.ceil(o.pods / PODS_PER_DEPLOYMENT));
    const [cp0, etcd0, cpu0] = await Promise.all([scrape(cp.metricsUrl), scrape(`${bed.etcd.endpoint}/metrics`), procUsage(cp.pid)]);
    const t0 = Date.now();
    // Own mutating calls, timed from this side: one create per Deployment, all in flight.
    const ownLatencies: number[] = [];
    await Promise.all(Array.from({ length: deployments }, async (_, i) => {
      const replicas = Math.min(PODS_PER_DEPLOYMENT, o.pods - i * PODS_PER_DEPLOYMENT);
      const s = Date.now();
      await createDeployment(api, deployment(`density-${i}`, replicas, 'docker.io/skiff/hello:1'));
      ownLatencies.push(Date.now() - s);
    }));
    let peakCpRss = 0;
    const sampler = setInterval(() => {
      procUsage(cp.pid).then((u) => (peakCpRss = Math.max(peakCpRss, u.rssMB)), () => undefined);
    }, 1000);
    try {
      await tracker.until(() => tracker.running().length >= o.pods, o.timeoutMs, `${o.pods} pods Running`);
    } finally {
      clearInterval(sampler);
    }
    const tEnd = Math.max(...tracker.running().map((p) => p.runningAt ?? 0));
    const [cp1, etcd1, cpu1] = await Promise.all([scrape(cp.metricsUrl), scrape(`${bed.etcd.endpoint}/metrics`), procUsage(cp.pid)]);
    // Scale-down of the own patches: one patch per Deployment (annotation) to time Patch too.
    await Promise.all(Array.from({ length: Math.min(deployments, 20) }, async (_, i) => {
      const s = Date.now();
      await api.patch({ kind: 'Deployment', namespace: 'default', name: `density-${i}`, patch: JSON.stringify({ metadata: { annotations: { bench: 'patched' } } }) });
      ownLatencies.push(Date.now() - s);
    }));
    const pods = tracker.running();
    const startupSeen = pods.map((p) => (p.runningAt ?? 0) - p.seenAt);
    const startupCreated = pods.map((p) => (p.runningAt ?? 0) - p.createdTs);
    const secs = (tEnd - t0) / 1000;
    const podsPerSec = o.pods / secs;
    const writes = ['etcd_mvcc_put_total', 'etcd_mvcc_delete_total'].reduce((a, n) => a + sumOf(etcd1, n) - sumOf(etcd0, n), 0);
    const txns = sumOf(etcd1, 'etcd_mvcc_txn_total') - sumOf(etcd0, 'etcd_mvcc_txn_total');
    const writesPerPod = writes / o.pods;
    const apiHist = histogramQuantiles(cp0, cp1, 'skiff_api_request_duration_seconds', (l) => MUTATING.has(l.verb ?? ''), [0.5, 0.99]);
    // The control plane's own view (creation -> first seen Running): unaffected by this process
    // falling behind on its watch, which at 30,000 pods it does.
    const cpStartup = histogramQuantiles(cp0, cp1, 'skiff_pod_startup_latency_seconds', () => true, [0.5, 0.9, 0.99]);
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
        fromWatchSeen: summarize(startupSeen),
        // The two legs of it: waiting to be scheduled, then the node agent starting the pod.
        seenToBound: summarize(pods.map((p) => (p.boundAt ?? p.seenAt) - p.seenAt)),
        boundToRunning: summarize(pods.map((p) => (p.runningAt ?? 0) - (p.boundAt ?? p.seenAt))),
        // creationTimestamp has whole-second resolution: these read up to 1 s high.
        fromCreationTimestamp: summarize(startupCreated),
        controlPlaneHistogram: { count: cpStartup.count, ...cpStartup.quantilesMs, note: 'skiff_pod_startup_latency_seconds: creationTimestamp (1 s resolution) -> Running, bucket upper bounds' },
      },
      throughput: { secondsToAllRunning: round3(secs), podsRunningPerSec: round1(podsPerSec) },
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
    return {
      json: result,
      summary: [
        `density: ${pods.length}/${o.pods} pods on ${o.nodes} nodes Running in ${secs.toFixed(2)} s (${podsPerSec.toFixed(1)} pods/s)`,
        `  startup ms (watch-seen -> Running): p50 ${result.podStartupMs.fromWatchSeen.p50} p90 ${result.podStartupMs.fromWatchSeen.p90} p99 ${result.podStartupMs.fromWatchSeen.p99} max ${result.podStartupMs.fromWatchSeen.max}; of which seen->bound p50 ${result.podStartupMs.seenToBound.p50} p99 ${result.podStartupMs.seenToBound.p99}, bound->Running p50 ${result.podStartupMs.boundToRunning.p50} p99 ${result.podStartupMs.boundToRunning.p99}`,
        `  control plane's startup histogram (creation -> Running): p50<=${cpStartup.quantilesMs.p50} p90<=${cpStartup.quantilesMs.p90} p99<=${cpStartup.quantilesMs.p99} ms (${cpStartup.count} pods)${tracker.relists ? `; this process's watch fell behind and re-listed ${tracker.relists}x, so its times above read late` : ''}`,
        `  mutating API ms: own p50 ${result.mutatingApiLatencyMs.own.p50} p99 ${result.mutatingApiLatencyMs.own.p99}; server histogram p50<=${apiHist.quantilesMs.p50} p99<=${apiHist.quantilesMs.p99} (${apiHist.count} calls)`,
        `  control plane RSS ${cpRss.rssMB} MB (peak ${cpRss.peakRssMB}), CPU ${result.controlPlane.cpuSecondsDuringBurst} s; agents ${result.agents.rssPerNodeMB} MB/node`,
        `  etcd ${writesPerPod.toFixed(1)} writes/pod; ceiling ${ceiling.singlePutsPerSec} puts/s single, ${ceiling.batchedPutsPerSec} batched x${ceiling.batchSize}; ratio ${result.ratio.singlePuts} (batched ${result.ratio.batchedPuts})`,
      ].join('\n'),
      series: [{ label: `pods Running (${o.nodes} nodes)`, points: runningSeries(pods.map((p) => ((p.runningAt ?? 0) - t0) / 1000)) }],
    };
  } finally {
    tracker.stop();
    await nodes.stop();
    api.close();
    await bed.close();
  }
}

