// Cache indexes shared by the controllers. Registering one twice (two controllers in one
// process) rebuilds the same index, so each controller may ensure the ones it reads.
import type { AnyObject } from '../../../proto/api/kinds.js';
import type { Informer } from '../../storage/informer.js';
import type { Kind } from '../../../proto/api/kinds.js';
import type { Lister } from './lister.js';

/** Objects by the uid of each of their owners (pods by ReplicaSet, ReplicaSets by Deployment). */
export const BY_OWNER_UID = 'ownerUid';
/** Objects by namespace (selector matching looks only within one). */
export const BY_NAMESPACE = 'namespace';
/** Objects without a controller, by namespace: the only ones a controller may adopt. */
export const BY_UNCONTROLLED_NAMESPACE = 'uncontrolledNamespace';

export const ownerUidIndex = (o: AnyObject): string[] => (o.metadata?.ownerReferences ?? []).map((r) => r.uid);
export const namespaceIndex = (o: AnyObject): string[] => [o.metadata?.namespace ?? ''];

export const uncontrolledNamespaceIndex = (o: AnyObject): string[] =>
  (o.metadata?.ownerReferences ?? []).some((r) => r.controller) ? [] : [o.metadata?.namespace ?? ''];

export const STANDARD_INDEXES = {
  [BY_OWNER_UID]: ownerUidIndex,
  [BY_NAMESPACE]: namespaceIndex,
  [BY_UNCONTROLLED_NAMESPACE]: uncontrolledNamespaceIndex,
};

/**
 * What a controller with this uid may claim in a namespace: the objects that name it as an
 * owner (its own, and any it must release) and the uncontrolled ones (it may adopt). Objects
 * controlled by someone else are never claimed, so they need not be looked at.
 */
export function claimCandidates<T extends AnyObject>(lister: Lister<T>, ownerUid: string, namespace: string): T[] {
  const out = new Map<string, T>();
  for (const o of lister.byIndex(BY_OWNER_UID, ownerUid)) if ((o.metadata?.namespace ?? '') === namespace) out.set(o.metadata?.uid ?? '', o);
  for (const o of lister.byIndex(BY_UNCONTROLLED_NAMESPACE, namespace)) out.set(o.metadata?.uid ?? '', o);
  return [...out.values()];
}

export function ensureStandardIndexes<K extends Kind>(inf: Informer<K>): void {
  inf.addIndex(BY_OWNER_UID, ownerUidIndex);
  inf.addIndex(BY_NAMESPACE, namespaceIndex);
  inf.addIndex(BY_UNCONTROLLED_NAMESPACE, uncontrolledNamespaceIndex);
}
