// What `rollout status` and `rollout history` know about a Deployment, computed from plain
// objects so the live view and its tests share it. The completion rule is kubectl's
// (observedGeneration, updated == replicas == available, no old replicas) plus the
// Progressing condition's NewReplicaSetAvailable; unlike kubectl, a crash-looping pod of the
// new ReplicaSet fails the rollout at once instead of waiting for the progress deadline.
import type { Deployment, ReplicaSet } from '../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import type { AnyObject } from '../../proto/api/kinds.js';
import { podIsReady, podNotReadyWhy } from '../../proto/api/columns/pod-status.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
export const POD_TEMPLATE_HASH = 'pod-template-hash';

export interface RolloutSnapshot {
  deployment: Deployment | undefined;
  replicaSets: ReplicaSet[];
  pods: Pod[];
}

export interface ReplicaSetProgress {
  name: string;
  revision: number;
  isNew: boolean;
  desired: number;
  current: number;
  ready: number;
  available: number;
}

export interface PodProblem {
  name: string;
  replicaSet: string;
  why: string;
}

export type RolloutPhase = 'waiting' | 'complete' | 'failed';

export interface RolloutState {
  phase: RolloutPhase;
  /** One line, as kubectl prints it ("Waiting for deployment "web" rollout to finish: ..."). */
  message: string;
  replicas: number;
  updated: number;
  ready: number;
  available: number;
  replicaSets: ReplicaSetProgress[];
  notReadyPods: PodProblem[];
}

export function revisionOf(o: AnyObject | undefined): number {
  const n = Number(o?.metadata?.annotations?.[REVISION_ANNOTATION] ?? '');
  return Number.isInteger(n) && n > 0 ? n : 0;
}

export function isControlledBy(o: AnyObject, ownerUid: string): boolean {
  return (o.metadata?.ownerReferences ?? []).some((r) => r.uid === ownerUid && r.controller !== false);
}

/** The Deployment's ReplicaSets, newest revision first. */
export function ownedReplicaSets(d: Deployment, all: readonly ReplicaSet[]): ReplicaSet[] {
  const uid = d.metadata?.uid ?? '';
  return all.filter((rs) => isControlledBy(rs, uid)).sort((a, b) => revisionOf(b) - revisionOf(a));
}

/** The ReplicaSet of the Deployment's current revision (the highest when the annotation is missing). */
export function newReplicaSet(d: Deployment, owned: readonly ReplicaSet[]): ReplicaSet | undefined {
  const rev = revisionOf(d);
  return (rev ? owned.find((rs) => revisionOf(rs) === rev) : undefined) ?? owned[0];
}

/** A crash-looping container of the pod, described; undefined when there is none. */
export function crashLoop(pod: Pod): string | undefined {
  for (const cs of pod.status?.containerStatuses ?? []) {
    const waiting = cs.state?.waiting?.reason ?? '';
    if (waiting === 'CrashLoopBackOff' || cs.restartCount >= 2) {
      const term = cs.lastState?.terminated ?? cs.state?.terminated;
      const parts = [
        waiting || 'restarting',
        term ? `exit ${term.exitCode}${term.reason ? ` ${term.reason}` : ''}` : '',
        `${cs.restartCount} restart${cs.restartCount === 1 ? '' : 's'}`,
      ].filter(Boolean);
      return `container ${cs.name} is crash-looping (${parts.join(', ')})`;
    }
  }
  return undefined;
}

function progressing(d: Deployment): { reason: string; message: string } | undefined {
  const c = d.status?.conditions.find((x) => x.type === 'Progressing');
  return c ? { reason: c.reason, message: c.message } : undefined;
}

export function evaluateRollout(name: string, snap: RolloutSnapshot): RolloutState {
  const d = snap.deployment;
  const empty: RolloutState = {
    phase: 'waiting', message: `Waiting for deployment "${name}" to exist...`, replicas: 0, updated: 0, ready: 0,
    available: 0, replicaSets: [], notReadyPods: [],
  };
  if (!d) return empty;
  const owned = ownedReplicaSets(d, snap.replicaSets);
  const newRs = newReplicaSet(d, owned);
  const replicas = d.spec?.replicas ?? 1;
  const st = d.status;
  const updated = st?.updatedReplicas ?? 0;
  const available = st?.availableReplicas ?? 0;
  const total = st?.replicas ?? 0;
  const rsProgress: ReplicaSetProgress[] = owned
    .filter((rs) => rs === newRs || (rs.spec?.replicas ?? 0) > 0 || (rs.status?.replicas ?? 0) > 0)
    .map((rs) => ({
      name: rs.metadata?.name ?? '',
      revision: revisionOf(rs),
      isNew: rs === newRs,
      desired: rs.spec?.replicas ?? 1,
      current: rs.status?.replicas ?? 0,
      ready: rs.status?.readyReplicas ?? 0,
      available: rs.status?.availableReplicas ?? 0,
    }));
  const rsNameByUid = new Map(owned.map((rs) => [rs.metadata?.uid ?? '', rs.metadata?.name ?? '']));
  const notReadyPods: PodProblem[] = [];
  let crash: PodProblem | undefined;
  for (const p of snap.pods) {
    const owner = (p.metadata?.ownerReferences ?? []).find((r) => rsNameByUid.has(r.uid));
    if (!owner) continue;
    const rsName = rsNameByUid.get(owner.uid) ?? '';
    if (!crash && newRs && owner.uid === newRs.metadata?.uid && !p.metadata?.deletionTimestamp) {
      const why = crashLoop(p);
      if (why) crash = { name: p.metadata?.name ?? '', replicaSet: rsName, why };
    }
    if (!podIsReady(p)) notReadyPods.push({ name: p.metadata?.name ?? '', replicaSet: rsName, why: podNotReadyWhy(p) });
  }
  notReadyPods.sort((a, b) => (a.name < b.name ? -1 : 1));
  const base = { replicas, updated, ready: st?.readyReplicas ?? 0, available, replicaSets: rsProgress, notReadyPods };
  const waiting = (message: string): RolloutState => ({ ...base, phase: 'waiting', message });

  if (crash) {
    return {
      ...base,
      phase: 'failed',
      message: `deployment "${name}" rollout failed: pod ${crash.name} of ReplicaSet ${crash.replicaSet}: ${crash.why}`,
    };
  }
  const cond = progressing(d);
  if ((d.metadata?.generation ?? 0) > (st?.observedGeneration ?? 0)) return waiting('Waiting for deployment spec update to be observed...');
  if (cond?.reason === 'ProgressDeadlineExceeded') {
    return { ...base, phase: 'failed', message: `deployment "${name}" exceeded its progress deadline${cond.message ? `: ${cond.message}` : ''}` };
  }
  if (d.spec?.paused) return waiting(`Waiting for deployment "${name}" rollout to finish: the deployment is paused (skiff rollout resume deploy/${name})`);
  if (updated < replicas) {
    return waiting(`Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`);
  }
  if (total > updated) {
    return waiting(`Waiting for deployment "${name}" rollout to finish: ${total - updated} old replicas are pending termination...`);
  }
  if (available < updated) {
    return waiting(`Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`);
  }
  if (cond?.reason !== 'NewReplicaSetAvailable') {
    return waiting(`Waiting for deployment "${name}" rollout to finish: the Progressing condition is ${cond ? cond.reason || 'unset' : 'not reported yet'}...`);
  }
  return { ...base, phase: 'complete', message: `deployment "${name}" successfully rolled out` };
}
