// Whether an eviction may go ahead: the pure rule over a snapshot read from etcd. Skiff has no
// PodDisruptionBudget; the owning Deployment's own rollout floor stands in for one, as if each
// Deployment had a budget of minAvailable = replicas - maxUnavailable (the availability its
// rolling update already promises to keep). Pods that are not available may always go
// (Kubernetes' unhealthyPodEvictionPolicy AlwaysAllow): removing them costs no availability,
// and a drain must not hang on a crash-looping pod.
import type { Deployment, ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import { dReplicas, maxUnavailable } from '../../controllers/deployment/util.js';
import { isPodActive, isPodAvailable } from '../../controllers/replicaset/pods.js';
import { controllerRefOf } from '../../controllers/runtime/claim.js';

export interface EvictionSnapshot {
  pod: Pod;
  /** The pod's controlling ReplicaSet, when it has one and it exists. */
  replicaSet?: ReplicaSet;
  /** The ReplicaSet's controlling Deployment, when it has one and it exists. */
  deployment?: Deployment;
  /** Every pod of the namespace controlled by one of the Deployment's ReplicaSets. */
  deploymentPods: readonly Pod[];
  now: number;
}

export type EvictionDecision =
  /** `guard`: the pods the count was made over; the deletion must be written only if none changed. */
  | { allowed: true; why: string; guard: Pod[] }
  | { allowed: false; message: string };

export function decideEviction(s: EvictionSnapshot): EvictionDecision {
  const { pod } = s;
  if (pod.metadata?.deletionTimestamp) return { allowed: true, why: 'already terminating', guard: [] };
  const phase = pod.status?.phase ?? '';
  if (phase === 'Succeeded' || phase === 'Failed') return { allowed: true, why: `finished (${phase})`, guard: [] };
  const rsRef = controllerRefOf(pod);
  if (!rsRef || rsRef.kind !== 'ReplicaSet' || !s.replicaSet || s.replicaSet.metadata?.uid !== rsRef.uid) {
    return { allowed: true, why: 'not controlled by a ReplicaSet', guard: [] };
  }
  const dRef = controllerRefOf(s.replicaSet);
  const d = s.deployment;
  if (!dRef || dRef.kind !== 'Deployment' || !d || d.metadata?.uid !== dRef.uid) {
    return { allowed: true, why: 'its ReplicaSet has no Deployment', guard: [] };
  }
  const minReady = d.spec?.minReadySeconds ?? 0;
  if (!isPodAvailable(pod, minReady, s.now)) return { allowed: true, why: 'not available', guard: [] };
  const available = s.deploymentPods.filter((p) => isPodActive(p) && isPodAvailable(p, minReady, s.now));
  const replicas = dReplicas(d);
  const unavailable = maxUnavailable(d);
  const floor = replicas - unavailable;
  // The pod itself is available, so it is among `available` (or the snapshot is inconsistent:
  // count it anyway so the rule never lets availability drop below the floor).
  const count = available.some((p) => p.metadata?.uid === pod.metadata?.uid) ? available.length : available.length + 1;
  const ns = pod.metadata?.namespace ?? '';
  const dName = `${ns}/${d.metadata?.name ?? ''}`;
  if (count - 1 < floor) {
    return {
      allowed: false,
      message:
        `Cannot evict pod as it would violate the availability of deployment "${dName}": it needs ${floor} available ` +
        `pod${floor === 1 ? '' : 's'} (replicas ${replicas} - maxUnavailable ${unavailable}) and has ${count}; ` +
        'retry once a replacement is available, or scale the deployment up',
    };
  }
  return { allowed: true, why: `deployment "${dName}" keeps ${count - 1} of ${floor} available pods`, guard: available };
}
