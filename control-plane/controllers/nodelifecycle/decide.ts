// What the node lifecycle controller does about one node, as a pure function of the node, the
// time its agent was last seen renewing its Lease, its pods and the time now. The controller
// (controller.ts) only reads caches, calls this and carries the decision out.
//
//   lease fresh ------------------------------> remove the unreachable taint if present
//   lease older than the grace period -------> Ready=Unknown (NodeStatusUnknown) and taint
//                                              node.kubernetes.io/unreachable:NoExecute
//   tainted for the pod's eviction delay ----> delete the pod at once (the node is gone), so
//                                              its ReplicaSet replaces it on another node
import type { Node, Pod, Taint, Toleration } from '../../../proto/gen/skiff/v1/core.js';
import { findCondition } from '../scheduler/conditions.js';
import { tolerates } from '../scheduler/filters.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const UNREACHABLE_TAINT_KEY = 'node.kubernetes.io/unreachable';
export const UNKNOWN_REASON = 'NodeStatusUnknown';
export const UNKNOWN_MESSAGE = 'Node agent stopped posting status';

export interface LifecycleConfig {
  /** How long a lease may go unrenewed before the node counts as unreachable. */
  gracePeriodMs: number;
  /** How long pods without their own tolerationSeconds stay on an unreachable node. */
  evictionDelayMs: number;
}

export const DEFAULT_GRACE_PERIOD_SECONDS = 15;
export const DEFAULT_EVICTION_DELAY_SECONDS = 20;

export interface NodeDecision {
  unreachable: boolean;
  /** Write Ready=Unknown (it is not already). */
  markUnknown: boolean;
  addTaint: boolean;
  removeTaint: boolean;
  /** Pods whose eviction time has come. */
  evict: Pod[];
  /** Look at the node again after this long (next eviction or lease expiry); undefined: only on change. */
  recheckInMs?: number;
}

export function unreachableTaint(nowMs: number): Taint {
  return { key: UNREACHABLE_TAINT_KEY, value: '', effect: 'NoExecute', timeAdded: new Date(nowMs).toISOString() };
}

export function findUnreachableTaint(node: Node): Taint | undefined {
  return node.spec?.taints.find((t) => t.key === UNREACHABLE_TAINT_KEY && t.effect === 'NoExecute');
}

/**
 * How long the pod may stay once the node is tainted: its own tolerationSeconds when it
 * tolerates the taint with one, forever when it tolerates it without one, else the default.
 */
export function evictionDelayMs(pod: Pod, taint: Taint, defaultMs: number): number {
  const matching: Toleration[] = (pod.spec?.tolerations ?? []).filter(
    (t) => (t.effect === '' || t.effect === 'NoExecute') && tolerates(t, taint),
  );
  if (matching.length === 0) return defaultMs;
  // The shortest bounded toleration applies; only unbounded ones mean "stay" (Kubernetes' rule).
  const bounded = matching.map((t) => t.tolerationSeconds).filter((s): s is number => s !== undefined);
  if (bounded.length === 0) return Number.POSITIVE_INFINITY;
  return Math.max(0, Math.min(...bounded)) * 1000;
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
  const taint = findUnreachableTaint(node);
  const expiresAt = lastRenewSeenAt + config.gracePeriodMs;
  if (now < expiresAt) {
    return { unreachable: false, markUnknown: false, addTaint: false, removeTaint: !!taint, evict: [], recheckInMs: expiresAt - now };
  }
  const ready = findCondition(node.status?.conditions, 'Ready');
  const markUnknown = !(ready?.status === 'Unknown' && ready.reason === UNKNOWN_REASON);
  const effective = taint ?? unreachableTaint(now);
  const taintedAt = Date.parse(effective.timeAdded) || now;
  const evict: Pod[] = [];
  let next = Number.POSITIVE_INFINITY;
  for (const p of pods) {
    const at = taintedAt + evictionDelayMs(p, effective, config.evictionDelayMs);
    if (at <= now) evict.push(p);
    else next = Math.min(next, at - now);
  }
  return {
    unreachable: true,
    markUnknown,
    addTaint: !taint,
    removeTaint: false,
    evict,
    recheckInMs: Number.isFinite(next) ? next : undefined,
  };
}
