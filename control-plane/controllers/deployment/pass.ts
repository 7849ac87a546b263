// The state and write helpers shared by one Deployment pass and its strategies (kubernetes
// sync.go): finding and creating the new ReplicaSet with its revision, scaling a ReplicaSet,
// publishing status, trimming history.
import { isApiError } from '../../../proto/api/errors.js';
import { emptyMeta } from '../../../proto/api/kinds.js';
import type { Deployment, DeploymentStatus, ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import { PodTemplateSpec, type Pod } from '../../../proto/gen/skiff/v1/core.js';
import { LabelSelector, type OwnerReference } from '../../../proto/gen/skiff/v1/meta.js';
import { canonicalEqual } from '../../storage/canonical.js';
import { copyObject, type ControllerClient } from '../client.js';
import type { EventRecorder } from '../events.js';
import { controllerRefFor, controllerRefOf } from '../runtime/claim.js';
import type { Lister } from '../runtime/lister.js';
import {
  calculateStatus,
  emptyStatus,
  getCondition,
  hasProgressDeadline,
  newCondition,
  REASON,
  removeCondition,
  rolloutStatus,
  setCondition,
} from './progress.js';
import {
  byRevision,
  computeHash,
  dReplicas,
  equalIgnoreHash,
  findNewReplicaSet,
  maxRevision,
  maxSurge,
  newRSReplicas,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  replicasAnnotationsNeedUpdate,
  revisionOf,
  rsReplicas,
  setReplicasAnnotations,
  skipCopyAnnotation,
} from './util.js';

export interface DeploymentDeps {
  deploymentLister: Lister<Deployment>;
  rsLister: Lister<ReplicaSet>;
  podLister: Lister<Pod>;
  client: ControllerClient;
  recorder: EventRecorder;
  now: () => number;
}

/** State of one pass: the Deployment as last written, and when to look again. */
export interface Pass extends DeploymentDeps {
  d: Deployment;
  /** The revision annotation as stored: a different one in d is written before status. */
  writtenRevision?: string;
  requeueAfterMs?: number;
}

/** Pods of the Deployment grouped by the uid of the ReplicaSet that controls them. */
export type PodMap = Map<string, Pod[]>;

export function withKind(d: Deployment): Deployment {
  return { ...d, apiVersion: 'apps/v1', kind: 'Deployment' };
}

export function deploymentControllerRef(d: Deployment): OwnerReference {
  return controllerRefFor({ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata?.name ?? '', uid: d.metadata?.uid ?? '' });
}

export function splitReplicaSets(d: Deployment, rsList: readonly ReplicaSet[]): { newRS?: ReplicaSet; oldRSs: ReplicaSet[] } {
  const newRS = findNewReplicaSet(d, rsList);
  return { newRS, oldRSs: rsList.filter((rs) => rs !== newRS) };
}

/**
 * The new ReplicaSet (the one with the Deployment's template) and the old ones; brings the
 * revision annotations up to date and creates the new ReplicaSet when asked and missing.
 */
export async function newAndOldReplicaSets(
  p: Pass,
  rsList: readonly ReplicaSet[],
  create: boolean,
): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[] }> {
  const { newRS: existing, oldRSs } = splitReplicaSets(p.d, rsList);
  const newRevision = String(maxRevision(oldRSs) + 1);
  const d = p.d;
  if (existing) {
    const copy = copyObject('ReplicaSet', existing);
    const annotationsUpdated = setNewReplicaSetAnnotations(d, copy, newRevision, true);
    const minReadyChanged = (copy.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
    if (annotationsUpdated || minReadyChanged) {
      copy.spec!.minReadySeconds = d.spec?.minReadySeconds ?? 0;
      const updated = await p.client.update('ReplicaSet', copy);
      // The pass goes on with the written object; the next pass syncs the Deployment's revision.
      return { newRS: updated, oldRSs };
    }
    let needsUpdate = setDeploymentRevision(d, copy.metadata?.annotations[REVISION_ANNOTATION] ?? '');
    if (hasProgressDeadline(d) && !getCondition(d.status, 'Progressing')) {
      const status = (d.status ??= emptyStatus());
      setCondition(status, newCondition('Progressing', 'True', REASON.foundNewRS, `Found new replica set "${copy.metadata?.name ?? ''}"`, p.now()));
      needsUpdate = true;
    }
    if (needsUpdate) await writeStatus(p);
    return { newRS: copy, oldRSs };
  }
  if (!create) return { oldRSs };

  const hash = computeHash(d.spec?.template, d.status?.collisionCount);
  const template = PodTemplateSpec.fromPartial(d.spec?.template ?? {});
  template.metadata ??= emptyMeta();
  template.metadata.labels = { ...template.metadata.labels, [POD_TEMPLATE_HASH_LABEL]: hash };
  const selector = LabelSelector.fromPartial(d.spec?.selector ?? {});
  selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash };
  const meta = emptyMeta();
  meta.name = `${d.metadata?.name ?? ''}-${hash}`;
  meta.namespace = d.metadata?.namespace ?? '';
  meta.labels = { ...template.metadata.labels };
  meta.ownerReferences = [deploymentControllerRef(d)];
  const rs: ReplicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: meta,
    spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    status: undefined,
  };
  const replicas = newRSReplicas(d, [...oldRSs, rs], rs);
  rs.spec!.replicas = replicas;
  setNewReplicaSetAnnotations(d, rs, newRevision, false);
  let created: ReplicaSet;
  try {
    created = await p.client.create('ReplicaSet', rs);
  } catch (e) {
    if (isApiError(e, 'AlreadyExists')) {
      // The cache may not have seen our own earlier create yet: only a ReplicaSet actually read
      // under this name with a different template or owner is a hash collision (as Kubernetes).
      const found =
        p.rsLister.get(`${meta.namespace}/${meta.name}`) ??
        (await p.client.get('ReplicaSet', meta.namespace, meta.name).catch(() => undefined));
      if (!found) throw e;
      if (controllerRefOf(found)?.uid === d.metadata?.uid && equalIgnoreHash(d.spec?.template, found.spec?.template)) {
        return { newRS: copyObject('ReplicaSet', found), oldRSs };
      }
      // A different template hashed to the same name: hash again with a higher collision count.
      const status = (d.status ??= emptyStatus());
      status.collisionCount = (status.collisionCount ?? 0) + 1;
      await writeStatus(p);
      throw e;
    }
    const msg = `Failed to create new replica set "${meta.name}": ${(e as Error).message}`;
    if (hasProgressDeadline(d)) {
      setCondition((d.status ??= emptyStatus()), newCondition('Progressing', 'False', REASON.failedRSCreate, msg, p.now()));
      await writeStatus(p).catch(() => undefined);
    }
    p.recorder.record(withKind(d), 'Warning', REASON.failedRSCreate, msg);
    throw e;
  }
  if (replicas > 0) {
    p.recorder.record(withKind(d), 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${meta.name} to ${replicas}`);
  }
  setDeploymentRevision(d, newRevision);
  if (hasProgressDeadline(d)) {
    setCondition((d.status ??= emptyStatus()), newCondition('Progressing', 'True', REASON.newRSCreated, `Created new replica set "${meta.name}"`, p.now()));
  }
  await writeStatus(p);
  return { newRS: created, oldRSs };
}

/** Copies the Deployment's annotations and raises the revision when it is behind; true if changed. */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: string, exists: boolean): boolean {
  const a = rs.metadata!.annotations;
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (skipCopyAnnotation(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  if (revisionOf(rs) < Number(newRevision)) {
    a[REVISION_ANNOTATION] = newRevision;
    changed = true;
  }
  if (!exists && setReplicasAnnotations(rs, dReplicas(d), dReplicas(d) + maxSurge(d))) changed = true;
  return changed;
}

export function setDeploymentRevision(d: Deployment, revision: string): boolean {
  const a = d.metadata!.annotations;
  if (!revision || a[REVISION_ANNOTATION] === revision) return false;
  a[REVISION_ANNOTATION] = revision;
  return true;
}

/**
 * Writes p.d's status and continues with the written object. A revision annotation changed in
 * this pass is written first, as a metadata patch: the status write carries status only.
 */
export async function writeStatus(p: Pass): Promise<void> {
  const revision = p.d.metadata?.annotations[REVISION_ANNOTATION];
  if (revision !== undefined && revision !== p.writtenRevision) {
    const status = p.d.status;
    const m = p.d.metadata!;
    p.d = await p.client.patch(
      'Deployment',
      m.namespace,
      m.name,
      (d) => {
        d.metadata!.annotations[REVISION_ANNOTATION] = revision;
        return d;
      },
      { uid: m.uid },
    );
    p.writtenRevision = revision;
    p.d.status = status;
  }
  p.d = await p.client.updateStatus('Deployment', p.d);
}

/**
 * Scales rs to newScale and refreshes its desired/max-replicas annotations; updates rs in place
 * so the rest of the pass sees the new size. True when the size changed.
 */
export async function scaleReplicaSet(p: Pass, rs: ReplicaSet, newScale: number, force = false): Promise<boolean> {
  const d = p.d;
  const from = rsReplicas(rs);
  const sizeChanged = from !== newScale;
  const max = dReplicas(d) + maxSurge(d);
  if (!sizeChanged && !(force && replicasAnnotationsNeedUpdate(rs, dReplicas(d), max))) return false;
  const copy = copyObject('ReplicaSet', rs);
  copy.spec!.replicas = newScale;
  setReplicasAnnotations(copy, dReplicas(d), max);
  const updated = await p.client.update('ReplicaSet', copy);
  Object.assign(rs, updated);
  if (sizeChanged) {
    const op = newScale > from ? 'up' : 'down';
    p.recorder.record(withKind(d), 'Normal', 'ScalingReplicaSet', `Scaled ${op} replica set ${rs.metadata?.name ?? ''} to ${newScale}`);
  }
  return sizeChanged;
}

export async function syncStatus(p: Pass, allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
  const status = calculateStatus(allRSs, newRS, p.d, p.now());
  await writeIfChanged(p, status);
}

export async function writeIfChanged(p: Pass, status: DeploymentStatus): Promise<void> {
  if (canonicalEqual(p.d.status, status)) return;
  p.d.status = status;
  await writeStatus(p);
}

/** Status after a rollout step, with progress estimated and the deadline requeue planned. */
export async function syncRolloutStatus(p: Pass, allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
  const { status, requeueAfterMs } = rolloutStatus(allRSs, newRS, p.d, p.now());
  const failure = replicaFailure(allRSs, newRS);
  if (failure) setCondition(status, failure);
  else removeCondition(status, 'ReplicaFailure');
  await writeIfChanged(p, status);
  p.requeueAfterMs = requeueAfterMs;
}

function replicaFailure(allRSs: ReplicaSet[], newRS: ReplicaSet | undefined) {
  for (const rs of [newRS, ...allRSs]) {
    const c = rs?.status?.conditions.find((x) => x.type === 'ReplicaFailure' && x.status === 'True');
    if (c) return { ...c };
  }
  return undefined;
}

/** Deletes the oldest scaled-down ReplicaSets beyond revisionHistoryLimit. */
export async function cleanupDeployment(p: Pass, oldRSs: readonly ReplicaSet[]): Promise<void> {
  const limit = p.d.spec?.revisionHistoryLimit;
  if (limit === undefined || limit === 2 ** 31 - 1) return;
  const cleanable = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp).sort(byRevision);
  const diff = cleanable.length - limit;
  for (let i = 0; i < diff; i++) {
    const rs = cleanable[i]!;
    if ((rs.status?.replicas ?? 0) !== 0 || rsReplicas(rs) !== 0) continue;
    if ((rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
    try {
      await p.client.delete('ReplicaSet', rs.metadata?.namespace ?? '', rs.metadata?.name ?? '', {
        preconditions: { uid: rs.metadata?.uid },
      });
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
  }
}
