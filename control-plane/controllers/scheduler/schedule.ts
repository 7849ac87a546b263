// The scheduling decision as a pure function: a read-only snapshot of nodes and pods plus a
// batch of pending pods in, bindings and failures out. No I/O, no clock, no randomness: the
// same input always gives the same plan. See README.md for the pipeline.
import type { Node, Pod } from '../../../proto/gen/skiff/v1/core.js';
import { podFacts, runFilters } from './filters.js';
import { allocatedFraction, assume, buildNodeInfos, controllerUid, type NodeInfo } from './nodeinfo.js';
import { podRequests, type Resources } from './resources.js';
import { nodeInfosFromLoads, type NodeLoads } from './node-loads.js';
import { podVolumes, volumeHint, type VolumeState } from './volumes.js';
import type { PersistentVolumeClaim } from '../../../proto/gen/skiff/v1/storage.js';

export interface Snapshot {
  nodes: readonly Node[];
  /** Every pod the scheduler knows: bound ones take node resources, pending ones do not. */
  pods: readonly Pod[];
  /** Claims, volumes and classes, for pods with persistentVolumeClaim volumes. */
  volumes?: VolumeState;
  /**
   * What the bound pods take per node, kept from the informer's events (node-loads.ts). When
   * given, `pods` need hold only the pending ones: nothing here sums over the bound pods.
   */
  loads?: Pick<NodeLoads, 'get' | 'claimHolders'>;
}

/** A node chosen for a pod whose WaitForFirstConsumer claims get bound there before the pod is. */
export interface Selection {
  pod: Pod;
  nodeName: string;
  claims: PersistentVolumeClaim[];
}

export interface Binding {
  pod: Pod;
  nodeName: string;
}

export interface Failure {
  pod: Pod;
  /** Node count per reason, e.g. {"Insufficient cpu": 3, "node(s) were NotReady": 2}. */
  reasons: Record<string, number>;
  /** Kubernetes' wording: "0/5 nodes are available: 2 node(s) were NotReady, 3 Insufficient cpu." */
  message: string;
}

export interface ScheduleResult {
  bindings: Binding[];
  failures: Failure[];
  /** Claims to bind on a node first; their pods are bound on a later pass. */
  selections: Selection[];
  /** startIndex for the next call. */
  nextStartIndex: number;
}

function podKey(p: Pod): string {
  return `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
}

/** Higher priority first, then older first, then by name: a stable order for the batch. */
export function queueOrder(a: Pod, b: Pod): number {
  const pa = a.spec?.priority ?? 0;
  const pb = b.spec?.priority ?? 0;
  if (pa !== pb) return pb - pa;
  // As times: stored objects mix whole-second and millisecond timestamps.
  const ta = Date.parse(a.metadata?.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  const ka = podKey(a);
  const kb = podKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

interface Score {
  sameOwner: number;
  allocated: number;
  name: string;
}

function scoreOf(owner: string, req: Resources, info: NodeInfo): Score {
  return { sameOwner: owner ? (info.owners.get(owner) ?? 0) : 0, allocated: allocatedFraction(info, req), name: info.name };
}

/** Fewest pods of the same owner first (spread), then least allocated, then node name. */
function better(a: Score, b: Score): boolean {
  if (a.sameOwner !== b.sameOwner) return a.sameOwner < b.sameOwner;
  if (a.allocated !== b.allocated) return a.allocated < b.allocated;
  return a.name < b.name;
}

function failureMessage(total: number, reasons: { reason: string; stage: number; count: number }[]): string {
  if (total === 0) return '0/0 nodes are available: no nodes registered.';
  const parts = reasons.map((r) => `${r.count} ${r.reason}`);
  return `0/${total} nodes are available: ${parts.join(', ')}.`;
}

/**
 * kube-scheduler's numFeasibleNodesToFind with the default percentageOfNodesToScore: every node
 * up to 100, then an adaptive share (50% minus 1% per 125 nodes, at least 5%, at least 100
 * nodes). Once that many nodes pass the filters, the rest are not looked at for this pod.
 */
export function feasibleNodesToFind(nodes: number): number {
  if (nodes < 100) return nodes;
  const percentage = Math.max(5, 50 - Math.floor(nodes / 125));
  return Math.max(100, Math.floor((nodes * percentage) / 100));
}

export interface ScheduleOptions {
  /** Where the node scan starts; kube-scheduler moves it on by the nodes each pod looked at. */
  startIndex?: number;
}

export function schedule(snapshot: Snapshot, pending: readonly Pod[], opts: ScheduleOptions = {}): ScheduleResult {
  const built = snapshot.loads ? nodeInfosFromLoads(snapshot.nodes, snapshot.loads) : buildNodeInfos(snapshot.nodes, snapshot.pods);
  const infos = [...built.values()].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  const bindings: Binding[] = [];
  const failures: Failure[] = [];
  const selections: Selection[] = [];
  // Pods holding claims, for ReadWriteOncePod; pods placed in this batch join them.
  const claimHolders: Pod[] = snapshot.loads
    ? snapshot.loads.claimHolders()
    : snapshot.pods.filter(
      (p) => !!p.spec?.nodeName && p.spec.volumes.some((v) => v.persistentVolumeClaim) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed',
    );
  const batch = pending.filter((p) => !p.spec?.nodeName).sort(queueOrder);
  const n = infos.length;
  const want = feasibleNodesToFind(n);
  let start = n ? (opts.startIndex ?? 0) % n : 0;
  for (const pod of batch) {
    let req: Resources;
    try {
      req = podRequests(pod);
    } catch (e) {
      failures.push({ pod, reasons: {}, message: e instanceof Error ? e.message : String(e) });
      continue;
    }
    const owner = controllerUid(pod);
    const vols = podVolumes(pod, snapshot.volumes, claimHolders);
    if (vols.kind === 'wait') continue;
    if (vols.kind === 'fail') {
      failures.push({ pod, reasons: { [vols.message]: n }, message: `0/${n} nodes are available: ${vols.message}.` });
      continue;
    }
    const facts = podFacts(pod, vols);
    let best: NodeInfo | undefined;
    let bestScore: Score | undefined;
    const rejected = new Map<string, { reason: string; stage: number; count: number }>();
    let feasible = 0;
    let looked = 0;
    for (; looked < n && feasible < want; looked++) {
      const info = infos[(start + looked) % n]!;
      const { stage, reasons } = runFilters({ pod, req, info, facts });
      if (reasons.length === 0) {
        feasible++;
        const score = scoreOf(owner, req, info);
        if (!bestScore || better(score, bestScore)) {
          best = info;
          bestScore = score;
        }
        continue;
      }
      for (const reason of reasons) {
        const r = rejected.get(reason) ?? { reason, stage, count: 0 };
        r.count++;
        rejected.set(reason, r);
      }
    }
    start = n ? (start + looked) % n : 0;
    if (best) {
      assume(best, pod, req);
      if (vols.kind === 'constrained') claimHolders.push(pod);
      if (vols.kind === 'constrained' && vols.select.length > 0) selections.push({ pod, nodeName: best.name, claims: vols.select });
      else bindings.push({ pod, nodeName: best.name });
      continue;
    }
    const ordered = [...rejected.values()].sort((a, b) =>
      a.stage !== b.stage ? a.stage - b.stage : a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0,
    );
    failures.push({
      pod,
      reasons: Object.fromEntries(ordered.map((r) => [r.reason, r.count])),
      message: failureMessage(infos.length, ordered) + volumeHint(vols, snapshot.nodes),
    });
  }
  return { bindings, failures, selections, nextStartIndex: start };
}
