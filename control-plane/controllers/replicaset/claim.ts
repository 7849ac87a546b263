// A ReplicaSet's claim on pods: its controller ownerReference and ControllerRefManager rules.
import type { ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import type { OwnerReference } from '../../../proto/gen/skiff/v1/meta.js';
import type { ControllerClient } from '../client.js';
import { claimObjects, controllerRefFor, type ClaimResult } from '../runtime/claim.js';

export function rsControllerRef(rs: ReplicaSet): OwnerReference {
  return controllerRefFor({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata?.name ?? '', uid: rs.metadata?.uid ?? '' });
}

export function claimPods(
  rs: ReplicaSet,
  pods: readonly Pod[],
  client: ControllerClient,
  canAdopt: () => Promise<boolean>,
): Promise<ClaimResult<Pod>> {
  const owner = { ref: rsControllerRef(rs), selector: rs.spec?.selector, deleting: !!rs.metadata?.deletionTimestamp };
  return claimObjects('Pod', owner, pods, client, canAdopt);
}
