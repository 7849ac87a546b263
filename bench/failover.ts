// Failover: (1) a simulated node dies (its agent stops: no heartbeats, no status): time until
// all its pods run elsewhere; (2) two control planes, the controller leader is SIGKILLed: time
// until the other acts (a Deployment created after the kill gets all its pods Running).
import { connect, createDeployment, deployment, sleep, spawnControlPlane, startBed, startNodes, waitNodesReady } from './cluster.js';
import { PodTracker } from './pod-tracker.js';
import type { ScenarioOptions, ScenarioResult } from './scenario.js';
import { round3 } from './stats.js';
import type { Series } from './svg.js';

// The control plane's defaults, passed explicitly so the JSON says what was measured.
const NODE_GRACE_SECONDS = 15;
const POD_EVICTION_DELAY_SECONDS = 20;
const LEADER_LEASE_SECONDS = 10;

export async function failover(o: ScenarioOptions): Promise<ScenarioResult> {
  const node = await nodeKill(o);
  const leader = await leaderKill(o);
  return {
    json: { scenario: 'failover', size: o.size, nodes: o.nodes, pods: o.pods, fakeStartLatencyMs: o.startMs, nodeKill: node.json, leaderKill: leader.json, allRunning: true },
    summary: [
      `failover: node kill: ${node.json.podsOnKilledNode} pods of the dead node Running elsewhere ${node.json.secondsUntilAllRescheduledRunning} s after the kill (grace ${NODE_GRACE_SECONDS} s + eviction delay ${POD_EVICTION_DELAY_SECONDS} s)`,
      `  leader kill: survivor became leader after ${leader.json.secondsUntilSurvivorLeader} s; a Deployment created after the kill had all ${leader.json.podsAfterKill} pods Running after ${leader.json.secondsUntilNewPodsRunning} s (lease ${LEADER_LEASE_SECONDS} s)`,
    ].join('\n'),
    series: [...node.series, ...leader.series],
  };
}

const cpFlags = [
  '--node-grace-period', String(NODE_GRACE_SECONDS), '--pod-eviction-delay', String(POD_EVICTION_DELAY_SECONDS),
  '--leader-lease-seconds', String(LEADER_LEASE_SECONDS),
];

async function nodeKill(o: ScenarioOptions): Promise<{ json: Record<string, number | string>; series: Series[] }> {
  const bed = await startBed({ controlPlanes: 1, cpuProfDir: o.cpuProfDir, extraArgs: cpFlags });
  const cp = bed.cps[0];
  if (!cp) throw new Error('no control plane');
  const api = connect(cp.address);
  const tracker = new PodTracker(api);
  const nodes = await startNodes(o.nodes, cp.address, { startMs: o.startMs });
  try {
    await waitNodesReady(api, o.nodes, 60_000 + o.nodes * 100);
    tracker.start();
    await createDeployment(api, deployment('failover', o.pods, 'docker.io/skiff/hello:1'));
    await tracker.until(() => tracker.running().length >= o.pods, o.timeoutMs, `${o.pods} pods Running`);
    const victim = nodes.agents[0];
    if (!victim) throw new Error('no nodes');
    const lost = tracker.running((p) => p.nodeName === victim.nodeName).length;
    const tKill = Date.now();
    await victim.stop();
    const elsewhere = (): number => tracker.running((p) => p.nodeName !== victim.nodeName).length;
    await tracker.until(() => elsewhere() >= o.pods, o.timeoutMs, `${o.pods} pods Running off the dead node`);
    const secs = (Date.now() - tKill) / 1000;
    const replaced = tracker.running((p) => p.seenAt >= tKill).map((p) => ((p.runningAt ?? 0) - tKill) / 1000);
    return {
      json: {
        killedNode: victim.nodeName, podsOnKilledNode: lost, secondsUntilAllRescheduledRunning: round3(secs),
        nodeGracePeriodSeconds: NODE_GRACE_SECONDS, podEvictionDelaySeconds: POD_EVICTION_DELAY_SECONDS,
      },
      series: [{ label: 'replacement pods Running (since node kill)', points: [[0, 0], ...replaced.sort((a, b) => a - b).map((t, i): [number, number] => [t, i + 1])] }],
    };
  } finally {
    tracker.stop();
    await nodes.stop();
    api.close();
    await bed.close();
  }
}

async function leaderOf(api: ReturnType<typeof connect>, timeoutMs: number, want?: string): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await api.version().catch(() => undefined);
    if (v?.leader && (!want || v.leader === want)) return v.leader;
    if (Date.now() > until) throw new Error(`no controller leader${want ? ` ${want}` : ''} after ${timeoutMs} ms (last: "${v?.leader ?? ''}")`);
    await sleep(100);
  }
}

async function leaderKill(o: ScenarioOptions): Promise<{ json: Record<string, number | string>; series: Series[] }> {
  const bed = await startBed({ controlPlanes: 1, extraArgs: cpFlags });
  const other = await spawnControlPlane({ identity: 'cp-1', etcd: bed.etcd.endpoint, extraArgs: cpFlags }).catch(async (e: unknown) => {
    await bed.close();
    throw e;
  });
  bed.cps.push(other);
  const probe = connect(other.address);
  let api = probe;
  let tracker: PodTracker | undefined;
  let nodes: Awaited<ReturnType<typeof startNodes>> | undefined;
  try {
    const leaderId = await leaderOf(probe, 30_000);
    const leader = bed.cps.find((c) => c.identity === leaderId);
    const survivor = bed.cps.find((c) => c.identity !== leaderId);
    if (!leader || !survivor) throw new Error(`leader "${leaderId}" is not one of ${bed.cps.map((c) => c.identity).join(', ')}`);
    api = connect(survivor.address);
    tracker = new PodTracker(api);
    const t = tracker;
    nodes = await startNodes(o.nodes, survivor.address, { startMs: o.startMs });
    await waitNodesReady(api, o.nodes, 60_000 + o.nodes * 100);
    t.start();
    const warm = Math.max(o.nodes, Math.floor(o.pods / 10));
    await createDeployment(api, deployment('before-kill', warm, 'docker.io/skiff/hello:1'));
    await t.until(() => t.running().length >= warm, o.timeoutMs, `${warm} pods Running before the kill`);
    const tKill = Date.now();
    await leader.stop('SIGKILL');
    await createDeployment(api, deployment('after-kill', warm, 'docker.io/skiff/hello:1'));
    const isNew = (p: { labels: Record<string, string> }): boolean => p.labels.bench === 'after-kill';
    const leaderWait = leaderOf(api, o.timeoutMs, survivor.identity).then(() => (Date.now() - tKill) / 1000);
    await t.until(() => t.running(isNew).length >= warm, o.timeoutMs, `${warm} pods of a Deployment created after the kill Running`);
    const secs = (Date.now() - tKill) / 1000;
    const leaderSecs = await leaderWait;
    const times = t.running(isNew).map((p) => ((p.runningAt ?? 0) - tKill) / 1000);
    return {
      json: {
        killedLeader: leader.identity, survivor: survivor.identity, podsAfterKill: warm,
        secondsUntilSurvivorLeader: round3(leaderSecs), secondsUntilNewPodsRunning: round3(secs), leaderLeaseSeconds: LEADER_LEASE_SECONDS,
      },
      series: [{ label: 'pods of the post-kill Deployment Running (since leader kill)', points: [[0, 0], ...times.sort((a, b) => a - b).map((x, i): [number, number] => [x, i + 1])] }],
    };
  } finally {
    tracker?.stop();
    await nodes?.stop();
    if (api !== probe) api.close();
    probe.close();
    await bed.close();
  }
}
