// Shared by the volume binding controller and the scheduler: claim/volume matching rules.
// Which volume a claim may bind to, as Kubernetes' PV controller's findBestMatch: same class,
// every requested access mode, at least the requested size, not bound to another claim; the
// smallest such volume wins (then the name, so the choice is stable). Pure.
import type { Node, Pod } from '../../../proto/gen/skiff/v1/core.js';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../../proto/gen/skiff/v1/storage.js';
import { toBytes } from '../../../proto/api/quantity.js';
import { DEFAULT_CLASS_ANNOTATION, volumeFitsNode } from '../../../proto/api/storage.js';

function bytes(q: string | undefined): number {
  if (!q) return 0;
  try {
    return toBytes(q);
  } catch {
    return 0;
  }
}

export function requestedBytes(claim: PersistentVolumeClaim): number {
  return bytes(claim.spec?.resources?.requests.storage);
}

export function capacityBytes(pv: PersistentVolume): number {
  return bytes(pv.spec?.capacity.storage);
}

/** The class the claim asks for ('' = none); undefined while the default is not filled in. */
export function claimClass(claim: PersistentVolumeClaim): string | undefined {
  return claim.spec?.storageClassName;
}

/** Whether the volume's claimRef names this claim (by uid when the ref has one). */
export function refersTo(pv: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const r = pv.spec?.claimRef;
  const m = claim.metadata;
  if (!r || !m) return false;
  if (r.name !== m.name || r.namespace !== m.namespace) return false;
  return !r.uid || r.uid === m.uid;
}

export function findBestMatch(claim: PersistentVolumeClaim, volumes: readonly PersistentVolume[], node?: Node): PersistentVolume | undefined {
  const want = requestedBytes(claim);
  const modes = claim.spec?.accessModes ?? [];
  const cls = claimClass(claim) ?? '';
  let best: PersistentVolume | undefined;
  for (const pv of volumes) {
    if (pv.metadata?.deletionTimestamp) continue;
    if (pv.spec?.claimRef && !refersTo(pv, claim)) continue;
    const phase = pv.status?.phase ?? '';
    if (phase === 'Released' || phase === 'Failed') continue;
    if ((pv.spec?.storageClassName ?? '') !== cls) continue;
    if (!modes.every((m) => pv.spec?.accessModes.includes(m))) continue;
    if (capacityBytes(pv) < want) continue;
    if (node && !volumeFitsNode(pv, node)) continue;
    // A volume reserved for this claim by name is taken before any other.
    if (pv.spec?.claimRef) return pv;
    if (!best || capacityBytes(pv) < capacityBytes(best) || (capacityBytes(pv) === capacityBytes(best) && (pv.metadata?.name ?? '') < (best.metadata?.name ?? ''))) {
      best = pv;
    }
  }
  return best;
}

/** Kubernetes' default class: annotated is-default-class "true"; the newest when several are. */
export function defaultClass(classes: readonly StorageClass[]): StorageClass | undefined {
  let best: StorageClass | undefined;
  for (const sc of classes) {
    if (sc.metadata?.annotations[DEFAULT_CLASS_ANNOTATION] !== 'true' || sc.metadata.deletionTimestamp) continue;
    // As times: stored objects mix whole-second and millisecond timestamps.
    const t = Date.parse(sc.metadata.creationTimestamp) || 0;
    const bt = Date.parse(best?.metadata?.creationTimestamp ?? '') || 0;
    if (!best || t > bt || (t === bt && sc.metadata.name < (best.metadata?.name ?? ''))) best = sc;
  }
  return best;
}

/** Pods that still need the claim: not finished (Kubernetes' pvc-protection rule). */
export function podsUsingClaim(claim: PersistentVolumeClaim, pods: readonly Pod[]): Pod[] {
  const ns = claim.metadata?.namespace ?? '';
  const name = claim.metadata?.name ?? '';
  return pods.filter((p) => {
    if ((p.metadata?.namespace ?? '') !== ns) return false;
    const phase = p.status?.phase ?? '';
    if (phase === 'Succeeded' || phase === 'Failed') return false;
    return (p.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === name);
  });
}
