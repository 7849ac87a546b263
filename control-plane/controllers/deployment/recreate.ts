// Recreate (kubernetes recreate.go): scale every old ReplicaSet to 0, wait until no old pod is
// left (terminating ones included), then create or scale up the new ReplicaSet.
import type { ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import { deploymentComplete } from './progress.js';
import type { Pass, PodMap } from './pass.js';
import { cleanupDeployment, newAndOldReplicaSets, scaleReplicaSet, syncRolloutStatus } from './pass.js';
import { activeReplicaSets, actualReplicaCount, dReplicas } from './util.js';

/** Old pods that still exist in any state but finished (Kubernetes oldPodsRunning). */
export function oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[], podMap: PodMap): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata?.uid === uid) continue;
    for (const pod of pods) {
      const phase = pod.status?.phase ?? '';
      if (phase !== 'Succeeded' && phase !== 'Failed') return true;
    }
  }
  return false;
}

export async function rolloutRecreate(p: Pass, rsList: readonly ReplicaSet[], podMap: PodMap): Promise<void> {
  let { newRS, oldRSs } = await newAndOldReplicaSets(p, rsList, false);
  const all = (): ReplicaSet[] => [...oldRSs, ...(newRS ? [newRS] : [])];
  let scaledDown = false;
  for (const rs of activeReplicaSets(oldRSs)) if (await scaleReplicaSet(p, rs, 0)) scaledDown = true;
  if (scaledDown || oldPodsRunning(newRS, oldRSs, podMap)) {
    await syncRolloutStatus(p, all(), newRS);
    return;
  }
  if (!newRS) ({ newRS, oldRSs } = await newAndOldReplicaSets(p, rsList, true));
  if (newRS) await scaleReplicaSet(p, newRS, dReplicas(p.d));
  if (p.d.status && deploymentComplete(p.d, p.d.status)) await cleanupDeployment(p, oldRSs);
  await syncRolloutStatus(p, all(), newRS);
}
