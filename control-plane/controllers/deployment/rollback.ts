// Skiff's automatic rollback (spec.autoRollback; Kubernetes has none, see kubernetes#23211):
// while a rollout is unfinished, if its progress deadline passes or a pod of the new
// ReplicaSet crash-loops (restartCount >= 3 or waiting in CrashLoopBackOff), the Deployment's
// template is set back to the previous revision's, as `kubectl rollout undo` does (that
// ReplicaSet is then reused and gets revision max+1). The failed ReplicaSet is marked so it is
// never a rollback target itself, which keeps two bad revisions from flapping.
import type { Deployment, ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import { isCrashLooping, isPodActive } from '../replicaset/pods.js';
import { getCondition, REASON } from './progress.js';
import type { Pass, PodMap } from './pass.js';
import { splitReplicaSets, withKind } from './pass.js';
import {
  deploymentCompleteByStatus,
  equalIgnoreHash,
  revisionOf,
  ROLLBACK_FAILED_ANNOTATION,
  skipCopyAnnotation,
  templateWithoutHash,
} from './util.js';

export interface RollbackDecision {
  target: ReplicaSet;
  failed: ReplicaSet;
  why: string;
}

/** Whether and where to roll back, from the snapshot alone. */
export function planAutoRollback(d: Deployment, rsList: readonly ReplicaSet[], podMap: PodMap): RollbackDecision | undefined {
  if (!d.spec?.autoRollback || d.spec.paused) return undefined;
  const { newRS, oldRSs } = splitReplicaSets(d, rsList);
  if (!newRS) return undefined;
  const name = newRS.metadata?.name ?? '';
  const cond = getCondition(d.status, 'Progressing');
  const finished = cond ? cond.reason === REASON.newRSAvailable && cond.message.includes(`"${name}"`) : deploymentCompleteByStatus(d);
  if (finished) return undefined;
  let why: string | undefined;
  if (cond?.reason === REASON.timedOut && cond.message.includes(`"${name}"`)) {
    why = `replica set ${name} did not progress within ${d.spec.progressDeadlineSeconds ?? 0}s`;
  } else {
    const crashing = (podMap.get(newRS.metadata?.uid ?? '') ?? []).find((p) => isPodActive(p) && isCrashLooping(p));
    if (crashing) why = `pod ${crashing.metadata?.name ?? ''} of replica set ${name} is crash-looping`;
  }
  if (!why) return undefined;
  const rev = revisionOf(newRS);
  const target = oldRSs
    .filter((rs) => revisionOf(rs) < rev && !rs.metadata?.annotations[ROLLBACK_FAILED_ANNOTATION])
    .filter((rs) => !equalIgnoreHash(rs.spec?.template, d.spec?.template))
    .sort((a, b) => revisionOf(b) - revisionOf(a))[0];
  return target ? { target, failed: newRS, why } : undefined;
}

/** Rolls back when planAutoRollback says so; true when the Deployment was changed. */
export async function maybeAutoRollback(p: Pass, rsList: readonly ReplicaSet[], podMap: PodMap): Promise<boolean> {
  const decision = planAutoRollback(p.d, rsList, podMap);
  if (!decision) return false;
  const { target, failed, why } = decision;
  await p.client.patch(
    'ReplicaSet',
    failed.metadata?.namespace ?? '',
    failed.metadata?.name ?? '',
    (rs) => {
      rs.metadata!.annotations[ROLLBACK_FAILED_ANNOTATION] = why;
      return rs;
    },
    { uid: failed.metadata?.uid },
  );
  const ns = p.d.metadata?.namespace ?? '';
  p.d = await p.client.patch(
    'Deployment',
    ns,
    p.d.metadata?.name ?? '',
    (d) => {
      d.spec!.template = templateWithoutHash(target.spec?.template);
      // As kubectl rollout undo: keep the Deployment's own bookkeeping annotations, take the
      // rest (change-cause) from the revision rolled back to.
      const kept = Object.fromEntries(Object.entries(d.metadata!.annotations).filter(([k]) => skipCopyAnnotation(k)));
      for (const [k, v] of Object.entries(target.metadata?.annotations ?? {})) if (!skipCopyAnnotation(k)) kept[k] = v;
      d.metadata!.annotations = kept;
      return d;
    },
    { uid: p.d.metadata?.uid },
  );
  p.recorder.record(
    withKind(p.d),
    'Warning',
    'RolledBack',
    `Rolled back to revision ${revisionOf(target)} (replica set ${target.metadata?.name ?? ''}): ${why}`,
  );
  return true;
}
