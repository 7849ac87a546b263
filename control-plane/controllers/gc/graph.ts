// The garbage collector's decisions as pure functions over objects and an owner lookup, so
// they can be tested with fixtures (the collector wires them to caches and live reads).
//
//   dependent:  every owner gone ---------------------> delete it (background propagation)
//               some owners gone ---------------------> drop those ownerReferences
//               an owner deleting in foreground ------> (the owner's pass deletes it)
//   owner being deleted (deletionTimestamp set):
//               finalizer "orphan" -------------------> remove our ownerReference from each
//                                                        dependent, then the finalizer
//               finalizer "foregroundDeletion" -------> delete dependents (in foreground too,
//                                                        so chains go depth first); when none
//                                                        are left, remove the finalizer
import type { AnyObject } from '../../../proto/api/kinds.js';
import type { OwnerReference } from '../../../proto/gen/skiff/v1/meta.js';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from '../client.js';

/** What is known of one owner reference. */
export type OwnerState = 'present' | 'absent';

export type DependentAction =
  | { type: 'none' }
  | { type: 'delete' }
  /** Drop the ownerReferences with these uids (their owners are gone, others remain). */
  | { type: 'removeOwnerRefs'; uids: string[] };

export function dependentAction(obj: AnyObject, ownerState: (ref: OwnerReference) => OwnerState): DependentAction {
  const refs = obj.metadata?.ownerReferences ?? [];
  if (refs.length === 0 || obj.metadata?.deletionTimestamp) return { type: 'none' };
  const gone = refs.filter((r) => ownerState(r) === 'absent');
  if (gone.length === 0) return { type: 'none' };
  if (gone.length === refs.length) return { type: 'delete' };
  return { type: 'removeOwnerRefs', uids: gone.map((r) => r.uid) };
}

export type OwnerAction =
  | { type: 'none' }
  /** Orphan: remove ownerReferences to the owner from these dependents, then the finalizer. */
  | { type: 'orphan'; dependents: AnyObject[] }
  /** Foreground: delete these dependents (not yet being deleted) and wait for all to go. */
  | { type: 'deleteDependents'; dependents: AnyObject[]; waiting: number }
  /** Nothing depends on it any more: remove this finalizer (and remove the object if none remain). */
  | { type: 'removeFinalizer'; finalizer: string };

export function ownerAction(owner: AnyObject, dependents: readonly AnyObject[]): OwnerAction {
  const m = owner.metadata;
  if (!m?.deletionTimestamp) return { type: 'none' };
  if (m.finalizers.includes(ORPHAN_FINALIZER)) {
    return dependents.length ? { type: 'orphan', dependents: [...dependents] } : { type: 'removeFinalizer', finalizer: ORPHAN_FINALIZER };
  }
  if (m.finalizers.includes(FOREGROUND_FINALIZER)) {
    if (dependents.length === 0) return { type: 'removeFinalizer', finalizer: FOREGROUND_FINALIZER };
    const toDelete = dependents.filter((d) => !d.metadata?.deletionTimestamp);
    return { type: 'deleteDependents', dependents: toDelete, waiting: dependents.length };
  }
  return { type: 'none' };
}

/** Dependents of an owner: objects with an ownerReference carrying its uid. */
export function isDependentOf(obj: AnyObject, ownerUid: string): boolean {
  return (obj.metadata?.ownerReferences ?? []).some((r) => r.uid === ownerUid);
}
