// Cache indexes shared by the controllers. Registering one twice (two controllers in one
// process) rebuilds the same index, so each controller may ensure the ones it reads.
import type { AnyObject } from '../../../proto/api/kinds.js';
import type { Informer } from '../../storage/informer.js';
import type { Kind } from '../../../proto/api/kinds.js';

/** Objects by the uid of each of their owners (pods by ReplicaSet, ReplicaSets by Deployment). */
export const BY_OWNER_UID = 'ownerUid';
/** Objects by namespace (selector matching looks only within one). */
export const BY_NAMESPACE = 'namespace';

export const ownerUidIndex = (o: AnyObject): string[] => (o.metadata?.ownerReferences ?? []).map((r) => r.uid);
export const namespaceIndex = (o: AnyObject): string[] => [o.metadata?.namespace ?? ''];

export const STANDARD_INDEXES = { [BY_OWNER_UID]: ownerUidIndex, [BY_NAMESPACE]: namespaceIndex };

export function ensureStandardIndexes<K extends Kind>(inf: Informer<K>): void {
  inf.addIndex(BY_OWNER_UID, ownerUidIndex);
  inf.addIndex(BY_NAMESPACE, namespaceIndex);
}
