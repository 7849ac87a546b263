// Ownership by selector (kubernetes ControllerRefManager): an owner keeps the objects it
// controls that still match its selector, releases the ones that stopped matching (removes its
// ownerReference) and adopts orphans that match (adds a controller ownerReference). Objects
// that another controller owns are never touched. Used for pods of ReplicaSets and for
// ReplicaSets of Deployments.
import { isApiError } from '../../../proto/api/errors.js';
import type { KindMap } from '../../../proto/api/kinds.js';
import type { LabelSelector, OwnerReference } from '../../../proto/gen/skiff/v1/meta.js';
import { selectorMatches } from '../../storage/labels.js';
import type { ControllerClient } from '../client.js';

export type OwnedKind = 'Pod' | 'ReplicaSet';

export function controllerRefOf(o: { metadata?: { ownerReferences: OwnerReference[] } | undefined }): OwnerReference | undefined {
  return o.metadata?.ownerReferences.find((r) => r.controller === true);
}

export function controllerRefFor(owner: { kind: string; apiVersion: string; name: string; uid: string }): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true };
}

export interface Owner {
  ref: OwnerReference;
  selector: LabelSelector | undefined;
  deleting: boolean;
}

export interface ClaimResult<T> {
  claimed: T[];
  adopted: string[];
  released: string[];
}

/**
 * Claims objects for owner. canAdopt is asked (once, lazily) before the first adoption:
 * kubernetes re-reads the owner live so a stale cache never adopts into an owner that is gone
 * or being deleted. Objects that vanish or change under a patch are skipped, not errors.
 */
export async function claimObjects<K extends OwnedKind>(
  kind: K,
  owner: Owner,
  objects: readonly KindMap[K][],
  client: ControllerClient,
  canAdopt: () => Promise<boolean>,
): Promise<ClaimResult<KindMap[K]>> {
  const uid = owner.ref.uid;
  const out: ClaimResult<KindMap[K]> = { claimed: [], adopted: [], released: [] };
  let adoptable: boolean | undefined;
  const errs: unknown[] = [];
  const gone = (e: unknown): boolean => isApiError(e, 'NotFound') || isApiError(e, 'Conflict');
  for (const o of objects) {
    const ref = controllerRefOf(o);
    const match = selectorMatches(owner.selector, o.metadata?.labels);
    const ns = o.metadata?.namespace ?? '';
    const name = o.metadata?.name ?? '';
    if (ref) {
      if (ref.uid !== uid) continue;
      if (match) {
        out.claimed.push(o);
        continue;
      }
      if (owner.deleting) continue;
      try {
        await client.patch(
          kind,
          ns,
          name,
          (cur) => {
            const refs = cur.metadata?.ownerReferences ?? [];
            if (!refs.some((r) => r.uid === uid)) return undefined;
            cur.metadata!.ownerReferences = refs.filter((r) => r.uid !== uid);
            return cur;
          },
          { uid: o.metadata?.uid },
        );
        out.released.push(name);
      } catch (e) {
        if (!gone(e)) errs.push(e);
      }
      continue;
    }
    if (owner.deleting || !match || o.metadata?.deletionTimestamp) continue;
    adoptable ??= await canAdopt();
    if (!adoptable) continue;
    try {
      const adopted = await client.patch(
        kind,
        ns,
        name,
        (cur) => {
          if (controllerRefOf(cur)) return undefined; // someone else adopted it first
          cur.metadata!.ownerReferences = [...(cur.metadata?.ownerReferences ?? []), owner.ref];
          return cur;
        },
        { uid: o.metadata?.uid },
      );
      if (controllerRefOf(adopted)?.uid === uid) {
        out.claimed.push(adopted);
        out.adopted.push(name);
      }
    } catch (e) {
      if (!gone(e)) errs.push(e);
    }
  }
  if (errs.length) throw errs[0];
  return out;
}
