// What the node lifecycle controller does about one node, as a pure function of the node, the
// time its agent was last seen renewing its Lease, its pods and the time now (Kubernetes' node
// lifecycle controller and taint manager in one step). controller.ts reads the caches, calls
// this and carries the decision out; disruption.ts decides, over all nodes, which unhealthy
// nodes may get their NoExecute taint now (rate limit, full-disruption mode).
//
//   health       lease older than the grace period -> unreachable: Ready=Unknown (NodeStatusUnknown),
//                                                     every pod's Ready=False at once (MarkPodsNotReady)
//                Ready=False posted by the agent    -> not-ready
//   NoSchedule   node.kubernetes.io/unreachable | not-ready | disk-pressure, while the condition holds
//   NoExecute    node.kubernetes.io/unreachable | not-ready, added when disruption.ts allows,
//                swapped when the health changes, removed when the node is healthy again
//   eviction     for every NoExecute taint (the controller's and users'): a pod that does not
//                tolerate it goes after its tolerationSeconds; without a toleration, at once for
//                a user's taint and after --pod-eviction-delay for the controller's (Kubernetes
//                adds 300 s default tolerations at admission; Skiff applies its configurable
//                default here, so a dead node's pods run elsewhere within 60 s). The delete is
//                graceful; once the grace period has passed on a node still unhealthy, forced.
import type { Node, Pod, Taint, Toleration } from '../../../proto/gen/skiff/v1/core.js';
import { findCondition } from '../scheduler/conditions.js';
import { tolerates } from '../scheduler/filters.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const UNREACHABLE_TAINT_KEY = 'node.kubernetes.io/unreachable';
export const NOT_READY_TAINT_KEY = 'node.kubernetes.io/not-ready';
export const DISK_PRESSURE_TAINT_KEY = 'node.kubernetes.io/disk-pressure';
export const UNKNOWN_REASON = 'NodeStatusUnknown';
export const UNKNOWN_MESSAGE = 'Node agent stopped posting status';

/** Taints this controller owns; anything else on a node is the user's. */
const OWNED = new Set([UNREACHABLE_TAINT_KEY, NOT_READY_TAINT_KEY, DISK_PRESSURE_TAINT_KEY]);

export interface LifecycleConfig {
  /** How long a lease may go unrenewed before the node counts as unreachable. */
  gracePeriodMs: number;
  /** How long pods without a toleration stay on a not-ready or unreachable node. */
  evictionDelayMs: number;
}

export const DEFAULT_GRACE_PERIOD_SECONDS = 15;
export const DEFAULT_EVICTION_DELAY_SECONDS = 20;

export type NodeHealth = 'ready' | 'not-ready' | 'unreachable';

export interface PodEviction {
  pod: Pod;
  /** Graceful (the pod's own grace period) or, once that has run out on a node still unhealthy, 0. */
  gracePeriodSeconds?: number;
  taint: Taint;
}

export interface NodeDecision {
  health: NodeHealth;
  /** Write Ready=Unknown (it is not already). */
  markUnknown: boolean;
  /** Pods whose Ready condition must turn False now (MarkPodsNotReady). */
  markNotReady: Pod[];
  /** The node's taints as they should be, when they differ from what it has; undefined: leave them. */
  taints?: Taint[];
  /** The NoExecute taint this node's health calls for and does not have yet: disruption.ts decides when. */
  wantsNoExecute?: string;
  evict: PodEviction[];
  /** Look at the node again after this long (next eviction or lease expiry); undefined: only on change. */
  recheckInMs?: number;
}

export function taint(key: string, effect: 'NoSchedule' | 'NoExecute', nowMs: number): Taint {
  return { key, value: '', effect, timeAdded: effect === 'NoExecute' ? new Date(nowMs).toISOString() : '' };
}

/** Back-compat name: the unreachable NoExecute taint. */
export function unreachableTaint(nowMs: number): Taint {
  return taint(UNREACHABLE_TAINT_KEY, 'NoExecute', nowMs);
}

export function findUnreachableTaint(node: Node): Taint | undefined {
  return node.spec?.taints.find((t) => t.key === UNREACHABLE_TAINT_KEY && t.effect === 'NoExecute');
}

/** The node's health: its lease first (an agent that cannot post cannot say it is ready). */
export function nodeHealth(node: Node, lastRenewSeenAt: number, now: number, config: LifecycleConfig): NodeHealth {
  if (now >= lastRenewSeenAt + config.gracePeriodMs) return 'unreachable';
  const ready = findCondition(node.status?.conditions, 'Ready');
  return ready?.status === 'False' ? 'not-ready' : 'ready';
}

const noExecuteKey = (h: NodeHealth): string | undefined =>
  h === 'unreachable' ? UNREACHABLE_TAINT_KEY : h === 'not-ready' ? NOT_READY_TAINT_KEY : undefined;

/**
 * How long the pod may stay once the node has the taint: its own tolerationSeconds when it
 * tolerates the taint with one, forever when it tolerates it without one, else defaultMs.
 */
export function evictionDelayMs(pod: Pod, t: Taint, defaultMs: number): number {
  const matching: Toleration[] = (pod.spec?.tolerations ?? []).filter(
    (x) => (x.effect === '' || x.effect === 'NoExecute') && tolerates(x, t),
  );
  if (matching.length === 0) return defaultMs;
  // The shortest bounded toleration applies; only unbounded ones mean "stay" (Kubernetes' rule).
  const bounded = matching.map((x) => x.tolerationSeconds).filter((s): s is number => s !== undefined);
  if (bounded.length === 0) return Number.POSITIVE_INFINITY;
  return Math.max(0, Math.min(...bounded)) * 1000;
}

function podReadyFalse(p: Pod): boolean {
  return p.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'False') ?? false;
}

/**
 * The node's taints as its health calls for: the user's untouched, the controller's NoSchedule
 * ones set or cleared, a NoExecute one of ours kept (re-keyed when the health changed) or
 * removed. Adding the first NoExecute taint is disruption.ts's call: returned as wantsNoExecute.
 * Pure over the current taints, so the writer can apply it again to a fresher copy.
 */
export function desiredTaints(current: readonly Taint[], health: NodeHealth, diskPressure: boolean, now: number): { taints: Taint[]; wantsNoExecute?: string } {
  const next: Taint[] = current.filter((t) => !OWNED.has(t.key));
  const keep = (key: string, effect: 'NoSchedule' | 'NoExecute'): void => {
    next.push(current.find((t) => t.key === key && t.effect === effect) ?? taint(key, effect, now));
  };
  const wantKey = noExecuteKey(health);
  if (wantKey) keep(wantKey, 'NoSchedule');
  if (diskPressure) keep(DISK_PRESSURE_TAINT_KEY, 'NoSchedule');
  const old = current.find((t) => (t.key === UNREACHABLE_TAINT_KEY || t.key === NOT_READY_TAINT_KEY) && t.effect === 'NoExecute');
  let wantsNoExecute: string | undefined;
  if (wantKey && old) next.push(old.key === wantKey ? old : { ...old, key: wantKey });
  else if (wantKey) wantsNoExecute = wantKey;
  // Ours first, then the user's (stable otherwise), so the comparison below is order-exact.
  const ours = next.filter((t) => OWNED.has(t.key));
  return { taints: [...ours, ...next.filter((t) => !OWNED.has(t.key))], wantsNoExecute };
}

export function sameTaints(a: readonly Taint[], b: readonly Taint[]): boolean {
  return a.length === b.length && a.every((t, i) => t.key === b[i]!.key && t.effect === b[i]!.effect && t.value === b[i]!.value && t.timeAdded === b[i]!.timeAdded);
}

export function decide(input: {
  node: Node;
  /** Local time the controller last saw the node's lease renewed (or started watching it). */
  lastRenewSeenAt: number;
  pods: readonly Pod[];
  now: number;
  config: LifecycleConfig;
}): NodeDecision {
  const { node, lastRenewSeenAt, pods, now, config } = input;
  const health = nodeHealth(node, lastRenewSeenAt, now, config);
  const current = node.spec?.taints ?? [];
  const ready = findCondition(node.status?.conditions, 'Ready');
  const markUnknown = health === 'unreachable' && !(ready?.status === 'Unknown' && ready.reason === UNKNOWN_REASON);
  const markNotReady = health === 'unreachable' ? pods.filter((p) => !p.metadata?.deletionTimestamp && !podReadyFalse(p)) : [];

  const diskPressure = health !== 'unreachable' && findCondition(node.status?.conditions, 'DiskPressure')?.status === 'True';
  const { taints: next, wantsNoExecute } = desiredTaints(current, health, diskPressure, now);

  const evict: PodEviction[] = [];
  let nextCheck = health === 'ready' ? lastRenewSeenAt + config.gracePeriodMs - now : Number.POSITIVE_INFINITY;
  for (const t of next) {
    if (t.effect !== 'NoExecute') continue;
    const taintedAt = Date.parse(t.timeAdded) || now;
    const byController = t.key === UNREACHABLE_TAINT_KEY || t.key === NOT_READY_TAINT_KEY;
    for (const p of pods) {
      if (evict.some((e) => e.pod === p)) continue;
      const deletion = p.metadata?.deletionTimestamp ? Date.parse(p.metadata.deletionTimestamp) : undefined;
      if (deletion !== undefined) {
        // Deleted gracefully, but an unreachable agent cannot finish it: force it once the grace
        // period is over (a not-ready node's agent still can, and does).
        if (t.key !== UNREACHABLE_TAINT_KEY) continue;
        if (deletion <= now) evict.push({ pod: p, gracePeriodSeconds: 0, taint: t });
        else nextCheck = Math.min(nextCheck, deletion - now);
        continue;
      }
      const at = taintedAt + evictionDelayMs(p, t, byController ? config.evictionDelayMs : 0);
      if (at <= now) evict.push({ pod: p, taint: t });
      else nextCheck = Math.min(nextCheck, at - now);
    }
  }
  return {
    health,
    markUnknown,
    markNotReady,
    taints: sameTaints(current, next) ? undefined : next,
    wantsNoExecute,
    evict,
    recheckInMs: Number.isFinite(nextCheck) ? Math.max(0, nextCheck) : undefined,
  };
}
