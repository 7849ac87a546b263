// One reconcile pass of a Deployment (kubernetes deployment_controller.go syncDeployment and
// sync.go): read it with its ReplicaSets and pods from the caches, then take one step: a
// scaling-only pass, a paused pass, an automatic rollback, or a rollout step of its strategy
// (rolling.ts, recreate.ts). Each step writes what it decided; the resulting events drive the
// next pass.
import type { Deployment, ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import { selectorMatches } from '../../storage/labels.js';
import { copyObject } from '../client.js';
import { claimObjects, controllerRefOf } from '../runtime/claim.js';
import type { Result } from '../runtime/controller.js';
import { BY_NAMESPACE, BY_OWNER_UID } from '../runtime/indexes.js';
import type { Lister } from '../runtime/lister.js';
import {
  cleanupDeployment,
  deploymentControllerRef,
  newAndOldReplicaSets,
  scaleReplicaSet,
  syncStatus,
  withKind,
  writeStatus,
  type DeploymentDeps,
  type Pass,
  type PodMap,
} from './pass.js';
import { checkPausedConditions, emptyStatus } from './progress.js';
import { rolloutRecreate } from './recreate.js';
import { maybeAutoRollback } from './rollback.js';
import { planScale, rolloutRolling } from './rolling.js';
import { activeReplicaSets, desiredReplicasAnnotation, dReplicas, REVISION_ANNOTATION } from './util.js';

export type { DeploymentDeps };

export async function syncDeployment(key: string, deps: DeploymentDeps): Promise<Result> {
  const cached = deps.deploymentLister.get(key);
  if (!cached) return {};
  // Copy before changing: the cache's object is shared with every reader.
  const p: Pass = { ...deps, d: copyObject('Deployment', cached), writtenRevision: cached.metadata?.annotations[REVISION_ANNOTATION] };
  const sel = p.d.spec?.selector;
  if (!sel || (Object.keys(sel.matchLabels).length === 0 && sel.matchExpressions.length === 0)) {
    p.recorder.record(withKind(p.d), 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
    if ((p.d.status?.observedGeneration ?? 0) < (p.d.metadata?.generation ?? 0)) {
      p.d.status = { ...(p.d.status ?? emptyStatus()), observedGeneration: p.d.metadata?.generation ?? 0 };
      await writeStatus(p);
    }
    return {};
  }
  const rsList = await replicaSetsFor(p);
  const podMap = podMapFor(p.d, rsList, p.podLister);
  if (p.d.metadata?.deletionTimestamp) {
    await syncStatusOnly(p, rsList);
    return {};
  }
  if (checkPausedConditions(p.d, p.now())) await writeStatus(p);
  if (p.d.spec?.paused) {
    await syncScaling(p, rsList);
    return {};
  }
  if (await maybeAutoRollback(p, rsList, podMap)) return {};
  if (isScalingEvent(p.d, rsList)) {
    await syncScaling(p, rsList);
    return done(p);
  }
  if (p.d.spec?.strategy?.type === 'Recreate') await rolloutRecreate(p, rsList, podMap);
  else await rolloutRolling(p, rsList);
  return done(p);
}

function done(p: Pass): Result {
  return p.requeueAfterMs === undefined ? {} : { requeueAfterMs: p.requeueAfterMs };
}



/** ReplicaSets of the Deployment: claimed (adopted or released) by its selector. */
async function replicaSetsFor(p: Pass): Promise<ReplicaSet[]> {
  const d = p.d;
  const ns = d.metadata?.namespace ?? '';
  const candidates = p.rsLister.byIndex(BY_NAMESPACE, ns);
  const owner = { ref: deploymentControllerRef(d), selector: d.spec?.selector, deleting: !!d.metadata?.deletionTimestamp };
  const { claimed } = await claimObjects('ReplicaSet', owner, candidates, p.client, async () => {
    const live = await p.client.get('Deployment', ns, d.metadata?.name ?? '');
    return live.metadata?.uid === d.metadata?.uid && !live.metadata?.deletionTimestamp;
  });
  return claimed.map((rs) => copyObject('ReplicaSet', rs));
}

export function podMapFor(d: Deployment, rsList: readonly ReplicaSet[], pods: Lister<Pod>): PodMap {
  const map: PodMap = new Map(rsList.map((rs) => [rs.metadata?.uid ?? '', [] as Pod[]]));
  const ns = d.metadata?.namespace ?? '';
  for (const [uid, list] of map) {
    for (const pod of pods.byIndex(BY_OWNER_UID, uid)) {
      if ((pod.metadata?.namespace ?? '') !== ns || controllerRefOf(pod)?.uid !== uid) continue;
      if (selectorMatches(d.spec?.selector, pod.metadata?.labels)) list.push(pod);
    }
  }
  return map;
}

/** Some active ReplicaSet was sized for a different replica count: only scaling is needed. */
export function isScalingEvent(d: Deployment, rsList: readonly ReplicaSet[]): boolean {
  for (const rs of activeReplicaSets(rsList)) {
    const desired = desiredReplicasAnnotation(rs);
    if (desired !== undefined && desired !== dReplicas(d)) return true;
  }
  return false;
}







/** A scaling-only or paused pass (kubernetes sync()): resize, keep history trimmed when paused. */
async function syncScaling(p: Pass, rsList: readonly ReplicaSet[]): Promise<void> {
  const { newRS, oldRSs } = await newAndOldReplicaSets(p, rsList, false);
  const plan = planScale(p.d, newRS, oldRSs);
  for (const a of plan.actions) {
    const rs = [newRS, ...oldRSs].find((x) => x?.metadata?.name === a.rs);
    if (rs) await scaleReplicaSet(p, rs, a.to, plan.proportional);
  }
  if (p.d.spec?.paused) await cleanupDeployment(p, oldRSs);
  await syncStatus(p, [...oldRSs, ...(newRS ? [newRS] : [])], newRS);
}

async function syncStatusOnly(p: Pass, rsList: readonly ReplicaSet[]): Promise<void> {
  const { newRS, oldRSs } = await newAndOldReplicaSets(p, rsList, false);
  await syncStatus(p, [...oldRSs, ...(newRS ? [newRS] : [])], newRS);
}





