// Pure helpers of the Deployment controller (kubernetes pkg/controller/deployment/util):
// names of annotations and labels, the pod-template-hash, revisions, surge/unavailable math
// and replica counts over sets of ReplicaSets.
import type { Deployment, ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import { PodTemplateSpec } from '../../../proto/gen/skiff/v1/core.js';
import type { IntOrString } from '../../../proto/gen/skiff/v1/meta.js';
import { canonicalEqual, canonicalJson } from '../../storage/canonical.js';
import { safeEncode } from '../runtime/names.js';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
/** Skiff: set on a ReplicaSet that autoRollback rolled away from; never a rollback target. */
export const ROLLBACK_FAILED_ANNOTATION = 'skiff.io/rollout-failed';

/** Deployment annotations never copied to its ReplicaSets (kubernetes skipCopyAnnotation). */
const SKIP_COPY = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  'deprecated.deployment.rollback.to',
  ROLLBACK_FAILED_ANNOTATION,
]);

export function skipCopyAnnotation(key: string): boolean {
  return SKIP_COPY.has(key);
}

export function dReplicas(d: Deployment): number {
  return d.spec?.replicas ?? 1;
}

export function rsReplicas(rs: ReplicaSet | undefined): number {
  return rs?.spec?.replicas ?? 0;
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type || 'RollingUpdate') === 'RollingUpdate';
}

/** FNV-1a, 32 bits, over the UTF-8 bytes of s. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The pod-template-hash of a template: FNV-1a over its canonical JSON (so field order never
 * matters) plus the collision count when set, in the safe alphabet.
 */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let text = canonicalJson(template ?? {});
  if (collisionCount !== undefined) text += `#${collisionCount}`;
  return safeEncode(fnv1a32(text));
}

function withoutHash(t: PodTemplateSpec | undefined): unknown {
  const c = PodTemplateSpec.fromPartial(t ?? {});
  if (c.metadata?.labels) delete c.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  return c;
}

/** Templates equal once the pod-template-hash label is ignored. */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return canonicalEqual(withoutHash(a), withoutHash(b));
}

export function templateWithoutHash(t: PodTemplateSpec | undefined): PodTemplateSpec {
  return withoutHash(t) as PodTemplateSpec;
}

export function revisionOf(o: { metadata?: { annotations: Record<string, string> } | undefined }): number {
  const v = o.metadata?.annotations[REVISION_ANNOTATION];
  const n = v === undefined ? NaN : Number.parseInt(v, 10);
  return Number.isNaN(n) ? 0 : n;
}

export function maxRevision(rsList: readonly ReplicaSet[]): number {
  return rsList.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

function created(rs: ReplicaSet): number {
  const t = Date.parse(rs.metadata?.creationTimestamp ?? '');
  return Number.isNaN(t) ? 0 : t;
}

/** Oldest first; ties by name (kubernetes ReplicaSetsByCreationTimestamp). */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const d = created(a) - created(b);
  if (d !== 0) return d;
  return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/** Larger first; among equals newer first (ReplicaSetsBySizeNewer: scale up). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  const d = rsReplicas(b) - rsReplicas(a);
  return d !== 0 ? d : -byCreation(a, b);
}

/** Larger first; among equals older first (ReplicaSetsBySizeOlder: scale down). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  const d = rsReplicas(b) - rsReplicas(a);
  return d !== 0 ? d : byCreation(a, b);
}

/** Lowest revision first; ties by creation. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const d = revisionOf(a) - revisionOf(b);
  return d !== 0 ? d : byCreation(a, b);
}

/**
 * Kubernetes' GetScaledValueFromIntOrPercent: an int as is, "N%" of total rounded up or down.
 * Throws on a malformed value (the API validates it; a bad one is a terminal error).
 */
export function scaledValue(v: IntOrString | undefined, total: number, roundUp: boolean, fallback: string): number {
  if (!v) return scaledValue({ type: 1, intVal: 0, strVal: fallback }, total, roundUp, fallback);
  if (v.type === 0) return v.intVal;
  const m = /^(\d+)%$/.exec(v.strVal);
  if (!m) throw new Error(`invalid value "${v.strVal}": must be an integer or a percentage`);
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** maxSurge rounds up, maxUnavailable rounds down; both 0 makes maxUnavailable 1. */
export function resolveFenceposts(
  maxSurge: IntOrString | undefined,
  maxUnavailable: IntOrString | undefined,
  desired: number,
): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge, desired, true, '25%');
  let unavailable = scaledValue(maxUnavailable, desired, false, '25%');
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, dReplicas(d)).surge;
}

export function maxUnavailable(d: Deployment): number {
  const replicas = dReplicas(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  return Math.min(resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicas).unavailable, replicas);
}

const sum = (rsList: readonly (ReplicaSet | undefined)[], f: (rs: ReplicaSet) => number): number =>
  rsList.reduce((n, rs) => n + (rs ? f(rs) : 0), 0);

/** Sum of spec.replicas. */
export const replicaCount = (l: readonly (ReplicaSet | undefined)[]): number => sum(l, rsReplicas);
/** Sum of status.replicas (pods that exist). */
export const actualReplicaCount = (l: readonly (ReplicaSet | undefined)[]): number => sum(l, (rs) => rs.status?.replicas ?? 0);
export const readyReplicaCount = (l: readonly (ReplicaSet | undefined)[]): number =>
  sum(l, (rs) => rs.status?.readyReplicas ?? 0);
export const availableReplicaCount = (l: readonly (ReplicaSet | undefined)[]): number =>
  sum(l, (rs) => rs.status?.availableReplicas ?? 0);

/**
 * Pods a ReplicaSet may have right now: its spec, or more while a scale-down is not yet seen in
 * its status. Skiff sizes surges with this rather than spec alone (Kubernetes), so pods never
 * exceed replicas + maxSurge even for the moment before the old pods' deletions land.
 */
export const surgeReplicaCount = (l: readonly (ReplicaSet | undefined)[]): number =>
  sum(l, (rs) => Math.max(rsReplicas(rs), rs.status?.replicas ?? 0));

/**
 * Available replicas a ReplicaSet will keep: a status that still counts pods a scale-down is
 * removing is capped by spec (Kubernetes reads status alone), so availability never drops below
 * replicas - maxUnavailable because of a status that lags.
 */
export const keptAvailable = (rs: ReplicaSet): number => Math.min(rs.status?.availableReplicas ?? 0, rsReplicas(rs));
export const keptAvailableCount = (l: readonly (ReplicaSet | undefined)[]): number => sum(l, keptAvailable);

export function activeReplicaSets(l: readonly (ReplicaSet | undefined)[]): ReplicaSet[] {
  return l.filter((rs): rs is ReplicaSet => !!rs && rsReplicas(rs) > 0);
}

function annotationInt(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata?.annotations[key];
  if (v === undefined) return undefined;
  const n = Number.parseInt(v, 10);
  return Number.isNaN(n) ? undefined : n;
}

export const desiredReplicasAnnotation = (rs: ReplicaSet): number | undefined => annotationInt(rs, DESIRED_REPLICAS_ANNOTATION);
export const maxReplicasAnnotation = (rs: ReplicaSet): number | undefined => annotationInt(rs, MAX_REPLICAS_ANNOTATION);

/** Sets desired/max-replicas annotations; true when something changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = rs.metadata!.annotations;
  let changed = false;
  if (a[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) {
    a[DESIRED_REPLICAS_ANNOTATION] = String(desired);
    changed = true;
  }
  if (a[MAX_REPLICAS_ANNOTATION] !== String(max)) {
    a[MAX_REPLICAS_ANNOTATION] = String(max);
    changed = true;
  }
  return changed;
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  return desiredReplicasAnnotation(rs) !== desired || maxReplicasAnnotation(rs) !== max;
}

/** Ready and fully rolled out: the ReplicaSet has all the Deployment's replicas, all available. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  return (
    desiredReplicasAnnotation(rs) === dReplicas(d) &&
    rsReplicas(rs) === dReplicas(d) &&
    (rs.status?.availableReplicas ?? 0) === dReplicas(d)
  );
}

/** The oldest ReplicaSet whose template equals the Deployment's (ignoring the hash label). */
export function findNewReplicaSet(d: Deployment, rsList: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...rsList].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** Kubernetes' math.Round: halves away from zero. */
export function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/**
 * Size for the new ReplicaSet (kubernetes NewRSNewReplicas): RollingUpdate grows it as far as
 * the surge allows without passing the Deployment's replicas; Recreate sizes it fully.
 */
export function newRSReplicas(d: Deployment, allRSs: readonly ReplicaSet[], newRS: ReplicaSet): number {
  if (!isRollingUpdate(d)) return dReplicas(d);
  const current = surgeReplicaCount(allRSs);
  const maxTotal = dReplicas(d) + maxSurge(d);
  if (current >= maxTotal) return rsReplicas(newRS);
  const up = Math.min(maxTotal - current, dReplicas(d) - rsReplicas(newRS));
  return rsReplicas(newRS) + up;
}

/** Complete by the recorded status alone (no progress deadline to read it from). */
export function deploymentCompleteByStatus(d: Deployment): boolean {
  const s = d.status;
  const n = dReplicas(d);
  return !!s && s.updatedReplicas === n && s.replicas === n && s.availableReplicas === n && s.observedGeneration >= (d.metadata?.generation ?? 0);
}
