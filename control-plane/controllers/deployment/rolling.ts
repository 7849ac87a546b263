// RollingUpdate (kubernetes rolling.go) and scaling (sync.go scale): the decisions are pure
// functions of a snapshot {deployment, newRS, oldRSs} returning scale actions; rolloutRolling
// applies one step and publishes status.
//   step: grow the new ReplicaSet within maxSurge; if it cannot grow, shrink old ones within
//   maxUnavailable (unhealthy replicas first, oldest ReplicaSets first).
// Rollover falls out of this: on a template change mid-rollout the ReplicaSet that was
// growing becomes an old one and its not-yet-available replicas go first.
import type { Deployment, ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import { deploymentComplete } from './progress.js';
import type { Pass } from './pass.js';
import { cleanupDeployment, newAndOldReplicaSets, scaleReplicaSet, syncRolloutStatus } from './pass.js';
import {
  activeReplicaSets,
  byCreation,
  bySizeNewer,
  bySizeOlder,
  dReplicas,
  isRollingUpdate,
  isSaturated,
  keptAvailable,
  keptAvailableCount,
  maxReplicasAnnotation,
  maxSurge,
  maxUnavailable,
  newRSReplicas,
  replicaCount,
  roundHalfAway,
  rsReplicas,
} from './util.js';

export interface ScaleAction {
  rs: string;
  from: number;
  to: number;
}

export interface RolloutSnapshot {
  deployment: Deployment;
  newRS: ReplicaSet;
  oldRSs: readonly ReplicaSet[];
}

export type RollingStep = { kind: 'scaleNew' | 'scaleOld' | 'none'; actions: ScaleAction[] };

const nameOf = (rs: ReplicaSet): string => rs.metadata?.name ?? '';

/** Target size of the new ReplicaSet for this step. */
export function planNewReplicaSet(d: Deployment, allRSs: readonly ReplicaSet[], newRS: ReplicaSet): number {
  if (rsReplicas(newRS) >= dReplicas(d)) return dReplicas(d);
  return newRSReplicas(d, allRSs, newRS);
}

/**
 * Scale-downs of old ReplicaSets for this step (kubernetes reconcileOldReplicaSets): first
 * replicas that are not available (they cost no availability), then available ones as far as
 * maxUnavailable allows, oldest ReplicaSets first.
 */
export function planOldReplicaSets(d: Deployment, allRSs: readonly ReplicaSet[], oldRSs: readonly ReplicaSet[], newRS: ReplicaSet): ScaleAction[] {
  const old = activeReplicaSets(oldRSs).sort(byCreation);
  if (replicaCount(old) === 0) return [];
  const minAvailable = dReplicas(d) - maxUnavailable(d);
  const newUnavailable = rsReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = replicaCount(allRSs) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return [];
  const size = new Map(old.map((rs) => [nameOf(rs), rsReplicas(rs)]));

  let cleaned = 0;
  for (const rs of old) {
    if (cleaned >= maxScaledDown) break;
    const cur = size.get(nameOf(rs))!;
    const unhealthy = cur - keptAvailable(rs);
    if (cur === 0 || unhealthy <= 0) continue;
    const n = Math.min(maxScaledDown - cleaned, unhealthy);
    size.set(nameOf(rs), cur - n);
    cleaned += n;
  }

  const available = keptAvailableCount(allRSs);
  if (available > minAvailable) {
    const total = available - minAvailable;
    let scaled = 0;
    for (const rs of old) {
      if (scaled >= total) break;
      const cur = size.get(nameOf(rs))!;
      if (cur === 0) continue;
      const n = Math.min(cur, total - scaled);
      size.set(nameOf(rs), cur - n);
      scaled += n;
    }
  }
  return old.filter((rs) => size.get(nameOf(rs)) !== rsReplicas(rs)).map((rs) => ({ rs: nameOf(rs), from: rsReplicas(rs), to: size.get(nameOf(rs))! }));
}

/** One rolling-update step: scale the new ReplicaSet if it can move, else the old ones. */
export function planRollingStep(s: RolloutSnapshot): RollingStep {
  const allRSs = [...s.oldRSs, s.newRS];
  const target = planNewReplicaSet(s.deployment, allRSs, s.newRS);
  if (target !== rsReplicas(s.newRS)) {
    return { kind: 'scaleNew', actions: [{ rs: nameOf(s.newRS), from: rsReplicas(s.newRS), to: target }] };
  }
  const actions = planOldReplicaSets(s.deployment, allRSs, s.oldRSs, s.newRS);
  return actions.length ? { kind: 'scaleOld', actions } : { kind: 'none', actions: [] };
}

/** The one active ReplicaSet, or the newest one when none is active (FindActiveOrLatest). */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const sortedOld = [...oldRSs].sort(byCreation).reverse();
  const active = activeReplicaSets([...sortedOld, newRS]);
  if (active.length === 0) return newRS ?? sortedOld[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/**
 * The share of a replica change that falls to rs: its size relative to the Deployment size
 * it was last scaled for (its max-replicas annotation), rounded half away from zero.
 */
export function proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (rsReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  let fraction: number;
  if (dReplicas(d) === 0) fraction = -rsReplicas(rs);
  else {
    const deploymentReplicas = dReplicas(d) + maxSurge(d);
    const annotated = maxReplicasAnnotation(rs) ?? d.status?.replicas ?? 0;
    fraction = annotated === 0 ? 0 : roundHalfAway((rsReplicas(rs) * deploymentReplicas) / annotated) - rsReplicas(rs);
  }
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/**
 * Scaling when spec.replicas changed (kubernetes scale()). With one active ReplicaSet it takes
 * the whole count; with a saturated new one the old go to 0; mid-rollout the change is spread
 * over the active ReplicaSets in proportion to their sizes, leftovers to the largest.
 * proportional: every ReplicaSet gets its replica annotations refreshed even if its size stays.
 */
export function planScale(
  d: Deployment,
  newRS: ReplicaSet | undefined,
  oldRSs: readonly ReplicaSet[],
): { actions: ScaleAction[]; proportional: boolean } {
  const one = findActiveOrLatest(newRS, oldRSs);
  if (one) {
    if (rsReplicas(one) === dReplicas(d)) return { actions: [], proportional: false };
    return { actions: [{ rs: nameOf(one), from: rsReplicas(one), to: dReplicas(d) }], proportional: false };
  }
  if (isSaturated(d, newRS)) {
    return { actions: activeReplicaSets(oldRSs).map((rs) => ({ rs: nameOf(rs), from: rsReplicas(rs), to: 0 })), proportional: false };
  }
  if (!isRollingUpdate(d)) return { actions: [], proportional: false };
  const all = activeReplicaSets([...oldRSs, newRS]);
  const allowed = dReplicas(d) > 0 ? dReplicas(d) + maxSurge(d) : 0;
  const toAdd = allowed - replicaCount(all);
  if (toAdd > 0) all.sort(bySizeNewer);
  else if (toAdd < 0) all.sort(bySizeOlder);
  let added = 0;
  const size = new Map<string, number>();
  for (const rs of all) {
    const p = toAdd !== 0 ? proportion(rs, d, toAdd, added) : 0;
    size.set(nameOf(rs), rsReplicas(rs) + p);
    added += p;
  }
  if (toAdd !== 0 && all[0]) {
    const first = nameOf(all[0]);
    size.set(first, Math.max(0, size.get(first)! + toAdd - added));
  }
  return { actions: all.map((rs) => ({ rs: nameOf(rs), from: rsReplicas(rs), to: size.get(nameOf(rs))! })), proportional: true };
}

export async function rolloutRolling(p: Pass, rsList: readonly ReplicaSet[]): Promise<void> {
  const { newRS, oldRSs } = await newAndOldReplicaSets(p, rsList, true);
  if (!newRS) throw new Error('new replica set missing after create');
  const allRSs = [...oldRSs, newRS];
  const step = planRollingStep({ deployment: p.d, newRS, oldRSs });
  for (const a of step.actions) {
    const rs = allRSs.find((x) => nameOf(x) === a.rs);
    if (rs) await scaleReplicaSet(p, rs, a.to);
  }
  if (step.kind === 'none' && p.d.status && deploymentComplete(p.d, p.d.status)) await cleanupDeployment(p, oldRSs);
  await syncRolloutStatus(p, allRSs, newRS);
}
