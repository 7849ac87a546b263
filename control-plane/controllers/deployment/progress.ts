// Deployment status and conditions (kubernetes progress.go, sync.go calculateStatus and
// util's condition helpers): Available (MinimumReplicasAvailable / MinimumReplicasUnavailable)
// and Progressing (NewReplicaSetCreated, FoundNewReplicaSet, ReplicaSetUpdated,
// NewReplicaSetAvailable, ProgressDeadlineExceeded, DeploymentPaused, DeploymentResumed).
import type { Deployment, DeploymentStatus, ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import type { Condition } from '../../../proto/gen/skiff/v1/meta.js';
import {
  actualReplicaCount,
  availableReplicaCount,
  dReplicas,
  maxUnavailable,
  readyReplicaCount,
  replicaCount,
} from './util.js';

export const REASON = {
  minimumReplicasAvailable: 'MinimumReplicasAvailable',
  minimumReplicasUnavailable: 'MinimumReplicasUnavailable',
  newRSCreated: 'NewReplicaSetCreated',
  foundNewRS: 'FoundNewReplicaSet',
  rsUpdated: 'ReplicaSetUpdated',
  newRSAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  failedRSCreate: 'ReplicaSetCreateError',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
} as const;

/** Kubernetes treats MaxInt32 as "no deadline". */
const NO_DEADLINE = 2 ** 31 - 1;

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function newCondition(type: string, status: string, reason: string, message: string, now: number): Condition {
  const t = rfc3339(now);
  return { type, status, reason, message, lastUpdateTime: t, lastTransitionTime: t, lastProbeTime: '', lastHeartbeatTime: '' };
}

export function getCondition(status: DeploymentStatus | undefined, type: string): Condition | undefined {
  return status?.conditions.find((c) => c.type === type);
}

/**
 * Sets a condition; a condition with the same status and reason is left alone, and one with
 * the same status keeps its lastTransitionTime.
 */
export function setCondition(status: DeploymentStatus, c: Condition): void {
  const cur = getCondition(status, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  if (cur && cur.status === c.status) c.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...status.conditions.filter((x) => x.type !== c.type), c];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  status.conditions = status.conditions.filter((c) => c.type !== type);
}

export function hasProgressDeadline(d: Deployment): boolean {
  const s = d.spec?.progressDeadlineSeconds;
  return s !== undefined && s !== NO_DEADLINE;
}

export function emptyStatus(): DeploymentStatus {
  return {
    observedGeneration: 0,
    replicas: 0,
    updatedReplicas: 0,
    readyReplicas: 0,
    availableReplicas: 0,
    unavailableReplicas: 0,
    conditions: [],
    collisionCount: undefined,
  };
}

export function calculateStatus(allRSs: readonly ReplicaSet[], newRS: ReplicaSet | undefined, d: Deployment, now: number): DeploymentStatus {
  const available = availableReplicaCount(allRSs);
  const total = replicaCount(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata?.generation ?? 0,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    conditions: (d.status?.conditions ?? []).map((c) => ({ ...c })),
    collisionCount: d.status?.collisionCount,
  };
  if (available >= dReplicas(d) - maxUnavailable(d)) {
    setCondition(status, newCondition('Available', 'True', REASON.minimumReplicasAvailable, 'Deployment has minimum availability.', now));
  } else {
    setCondition(
      status,
      newCondition('Available', 'False', REASON.minimumReplicasUnavailable, 'Deployment does not have minimum availability.', now),
    );
  }
  return status;
}

/** Every replica updated, existing and available, and the newest spec observed. */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const n = dReplicas(d);
  return s.updatedReplicas === n && s.replicas === n && s.availableReplicas === n && s.observedGeneration >= (d.metadata?.generation ?? 0);
}

/** Some sign of progress since the last recorded status. */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? emptyStatus();
  return (
    s.updatedReplicas > old.updatedReplicas ||
    s.replicas - s.updatedReplicas < old.replicas - old.updatedReplicas ||
    s.readyReplicas > old.readyReplicas ||
    s.availableReplicas > old.availableReplicas
  );
}

export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, 'Progressing');
  if (!c) return false;
  if (c.reason === REASON.newRSAvailable) return false;
  if (c.reason === REASON.timedOut) return true;
  const from = Date.parse(c.lastUpdateTime);
  return !Number.isNaN(from) && from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 < now;
}

/**
 * The status after a rollout step, with the Progressing condition estimated, and when to
 * look again so a stuck rollout is noticed at its deadline (requeueStuckDeployment).
 */
export function rolloutStatus(
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet | undefined,
  d: Deployment,
  now: number,
): { status: DeploymentStatus; requeueAfterMs?: number } {
  const status = calculateStatus(allRSs, newRS, d, now);
  if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
  const cur = getCondition(d.status, 'Progressing');
  const isComplete = status.replicas === status.updatedReplicas && cur?.reason === REASON.newRSAvailable;
  const name = newRS?.metadata?.name ?? '';
  if (hasProgressDeadline(d) && !isComplete) {
    if (deploymentComplete(d, status)) {
      setCondition(status, newCondition('Progressing', 'True', REASON.newRSAvailable, `ReplicaSet "${name}" has successfully progressed.`, now));
    } else if (deploymentProgressing(d, status)) {
      const c = newCondition('Progressing', 'True', REASON.rsUpdated, `ReplicaSet "${name}" is progressing.`, now);
      // Progress refreshes lastUpdateTime even with the same reason: that resets the deadline.
      if (cur) {
        if (cur.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
        removeCondition(status, 'Progressing');
      }
      setCondition(status, c);
    } else if (deploymentTimedOut(d, status, now)) {
      setCondition(status, newCondition('Progressing', 'False', REASON.timedOut, `ReplicaSet "${name}" has timed out progressing.`, now));
    }
  }
  return { status, requeueAfterMs: stuckRequeue(d, status, now) };
}

/** Milliseconds until the progress deadline of an unfinished rollout, if one is running. */
export function stuckRequeue(d: Deployment, status: DeploymentStatus, now: number): number | undefined {
  const c = getCondition(status, 'Progressing');
  if (!hasProgressDeadline(d) || !c) return undefined;
  if (deploymentComplete(d, status) || c.reason === REASON.timedOut || c.reason === REASON.newRSAvailable) return undefined;
  if (c.reason === REASON.paused) return undefined;
  const from = Date.parse(c.lastUpdateTime);
  if (Number.isNaN(from)) return undefined;
  // One millisecond past the deadline, since timing out needs "strictly after".
  return Math.max(1, from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - now + 1);
}

/** Progressing=Unknown DeploymentPaused / DeploymentResumed; true when status changed. */
export function checkPausedConditions(d: Deployment, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const status = (d.status ??= emptyStatus());
  const cond = getCondition(status, 'Progressing');
  // A reported lack of progress is not overwritten by a pause.
  if (cond?.reason === REASON.timedOut) return false;
  const pausedExists = cond?.reason === REASON.paused;
  if (d.spec?.paused && !pausedExists) {
    setCondition(status, newCondition('Progressing', 'Unknown', REASON.paused, 'Deployment is paused', now));
    return true;
  }
  if (!d.spec?.paused && pausedExists) {
    setCondition(status, newCondition('Progressing', 'Unknown', REASON.resumed, 'Deployment is resumed', now));
    return true;
  }
  return false;
}
