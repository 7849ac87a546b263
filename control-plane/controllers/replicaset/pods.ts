// Pod predicates and orderings the ReplicaSet controller (and the Deployment controller, through
// ReplicaSet status) relies on, as kubernetes pkg/api/v1/pod and pkg/controller define them.
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import { controllerRefOf } from '../runtime/claim.js';

export { controllerRefOf };

export function podReadyCondition(pod: Pod): { status: string; lastTransitionTime: string } | undefined {
  return pod.status?.conditions.find((c) => c.type === 'Ready');
}

export function isPodReady(pod: Pod): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

function parseTime(t: string | undefined): number {
  if (!t) return NaN;
  return Date.parse(t);
}

/**
 * Ready for at least minReadySeconds (by the Ready condition's lastTransitionTime). A ready
 * pod without a transition time counts as available only when minReadySeconds is 0.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = parseTime(podReadyCondition(pod)?.lastTransitionTime);
  return !Number.isNaN(since) && since + minReadySeconds * 1000 <= now;
}

/** Not terminating and not finished: counts toward replicas. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase ?? '';
  return !pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed';
}

function restarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => Math.max(n, c.restartCount), 0);
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Kubernetes' ActivePods ordering, most deletable first: unassigned before assigned, Pending
 * before Unknown before Running, not ready before ready, ready for less time before longer,
 * more restarts before fewer, newer before older.
 */
export function compareForDeletion(a: Pod, b: Pod): number {
  const assignedA = a.spec?.nodeName ? 1 : 0;
  const assignedB = b.spec?.nodeName ? 1 : 0;
  if (assignedA !== assignedB) return assignedA - assignedB;
  const phaseA = PHASE_RANK[a.status?.phase ?? 'Pending'] ?? 0;
  const phaseB = PHASE_RANK[b.status?.phase ?? 'Pending'] ?? 0;
  if (phaseA !== phaseB) return phaseA - phaseB;
  const readyA = isPodReady(a) ? 1 : 0;
  const readyB = isPodReady(b) ? 1 : 0;
  if (readyA !== readyB) return readyA - readyB;
  if (readyA && readyB) {
    const ta = parseTime(podReadyCondition(a)?.lastTransitionTime);
    const tb = parseTime(podReadyCondition(b)?.lastTransitionTime);
    // Ready more recently = ready for less time = deleted first.
    if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta !== tb) return tb - ta;
  }
  const ra = restarts(a);
  const rb = restarts(b);
  if (ra !== rb) return rb - ra;
  const ca = parseTime(a.metadata?.creationTimestamp);
  const cb = parseTime(b.metadata?.creationTimestamp);
  if (!Number.isNaN(ca) && !Number.isNaN(cb) && ca !== cb) return cb - ca;
  return 0;
}

/** The n pods to delete first. */
export function podsToDelete(pods: readonly Pod[], n: number): Pod[] {
  return [...pods].sort(compareForDeletion).slice(0, Math.max(0, n));
}

/** The highest restartCount or a CrashLoopBackOff wait: the pod keeps failing. */
export function isCrashLooping(pod: Pod, restartThreshold = 3): boolean {
  return (pod.status?.containerStatuses ?? []).some(
    (c) => c.restartCount >= restartThreshold || c.state?.waiting?.reason === 'CrashLoopBackOff',
  );
}
