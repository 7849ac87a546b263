// The scheduler's share of volume binding (Kubernetes' VolumeBinding plugin), pure: what a
// pod's persistentVolumeClaim volumes demand of a node. A claim bound to a volume pins the pod
// to the nodes the volume's affinity allows; an unbound claim of a WaitForFirstConsumer class
// is bound after the node is chosen (the scheduler names the node on the claim and the binding
// controller makes or picks the volume there); anything else keeps the pod Pending with the
// reason in Kubernetes' words.
import type { Node, Pod } from '../../../proto/gen/skiff/v1/core.js';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../../proto/gen/skiff/v1/storage.js';
import { LOCAL_PATH_PROVISIONER, pinnedNode, SELECTED_NODE_ANNOTATION, volumeFitsNode } from '../../../proto/api/storage.js';
import { defaultClass, findBestMatch, refersTo } from '../storage/match.js';

const hasDefault = (state: VolumeState): boolean => defaultClass([...state.classes.values()]) !== undefined;

export interface VolumeState {
  /** By "namespace/name". */
  claims: ReadonlyMap<string, PersistentVolumeClaim>;
  volumes: ReadonlyMap<string, PersistentVolume>;
  classes: ReadonlyMap<string, StorageClass>;
}

export type PodVolumes =
  /** No claims, or nothing they ask of the node. */
  | { kind: 'free' }
  /** The pod cannot be placed anywhere now: the whole message. */
  | { kind: 'fail'; message: string }
  /** A binding the pod needs is in progress; look again when it changes. */
  | { kind: 'wait' }
  | {
    kind: 'constrained';
    /** Volumes the pod's bound claims use: the node must satisfy each one's affinity. */
    bound: { claim: string; volume: PersistentVolume }[];
    /** Claims to bind on the chosen node (WaitForFirstConsumer). */
    select: PersistentVolumeClaim[];
    /** Of those, the claims that need an existing volume on the node (no provisioner). */
    needExisting: PersistentVolumeClaim[];
    /** Every volume, for the existing-volume check. */
    all: readonly PersistentVolume[];
  };

const FREE: PodVolumes = Object.freeze({ kind: 'free' });

function podUsesClaim(p: Pod, ns: string, name: string): boolean {
  return (p.metadata?.namespace ?? '') === ns && (p.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === name);
}

/**
 * What the pod's claims demand. inUse: pods that hold a claim already (bound, unfinished), for
 * ReadWriteOncePod; the caller adds the pods it binds in the same batch.
 */
export function podVolumes(pod: Pod, state: VolumeState | undefined, inUse: readonly Pod[]): PodVolumes {
  const claims = (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
  if (claims.length === 0) return FREE;
  if (!state) return { kind: 'fail', message: 'persistent volume claims are not known to this scheduler' };
  const ns = pod.metadata?.namespace ?? '';
  const bound: { claim: string; volume: PersistentVolume }[] = [];
  const select: PersistentVolumeClaim[] = [];
  const needExisting: PersistentVolumeClaim[] = [];
  let wait = false;
  for (const name of claims) {
    const claim = state.claims.get(`${ns}/${name}`);
    if (!claim) return { kind: 'fail', message: `persistentvolumeclaim "${name}" not found` };
    if (claim.metadata?.deletionTimestamp) return { kind: 'fail', message: `persistentvolumeclaim "${name}" is being deleted` };
    if (claim.spec?.accessModes.includes('ReadWriteOncePod')) {
      const other = inUse.find((p) => p.metadata?.uid !== pod.metadata?.uid && podUsesClaim(p, ns, name));
      if (other) {
        return { kind: 'fail', message: `persistentvolumeclaim "${name}" has access mode ReadWriteOncePod and is used by pod ${ns}/${other.metadata?.name ?? ''}` };
      }
    }
    const volumeName = claim.spec?.volumeName ?? '';
    if (volumeName) {
      const pv = state.volumes.get(volumeName);
      if (!pv) return { kind: 'fail', message: `persistentvolumeclaim "${name}" is bound to non-existent persistentvolume "${volumeName}"` };
      if (!pv.spec?.claimRef?.uid || !refersTo(pv, claim)) wait = true;
      else bound.push({ claim: name, volume: pv });
      continue;
    }
    const cls = claim.spec?.storageClassName ?? (hasDefault(state) ? undefined : '');
    if (cls === undefined) {
      wait = true; // the default class is being filled in
      continue;
    }
    const sc = cls ? state.classes.get(cls) : undefined;
    if (cls && !sc) return { kind: 'fail', message: `storageclass.storage.k8s.io "${cls}" not found` };
    if (sc?.volumeBindingMode !== 'WaitForFirstConsumer') return { kind: 'fail', message: 'pod has unbound immediate PersistentVolumeClaims' };
    if (claim.metadata?.annotations[SELECTED_NODE_ANNOTATION]) {
      wait = true; // a node was named; the volume is being made or picked there
      continue;
    }
    select.push(claim);
    if (sc.provisioner !== LOCAL_PATH_PROVISIONER) needExisting.push(claim);
  }
  if (wait) return { kind: 'wait' };
  if (bound.length === 0 && select.length === 0) return FREE;
  return { kind: 'constrained', bound, select, needExisting, all: [...state.volumes.values()] };
}

export const VOLUME_REASON = {
  affinity: 'node(s) had volume node affinity conflict',
  noVolume: "node(s) didn't find available persistent volumes to bind",
} as const;

/** The reason the node cannot serve the pod's volumes; '' when it can. */
export function volumeReason(v: PodVolumes, node: Node): string {
  if (v.kind !== 'constrained') return '';
  if (v.bound.some((b) => !volumeFitsNode(b.volume, node))) return VOLUME_REASON.affinity;
  // Each claim needs its own volume: picking greedily in claim order is what the binder does too.
  const taken = new Set<string>();
  for (const claim of v.needExisting) {
    const pv = findBestMatch(claim, v.all.filter((x) => !taken.has(x.metadata?.name ?? '')), node);
    if (!pv) return VOLUME_REASON.noVolume;
    taken.add(pv.metadata?.name ?? '');
  }
  return '';
}

/**
 * A sentence naming where the pod's bound volumes are, added to a failure so that a pod whose
 * volume's node is NotReady or gone says so plainly.
 */
export function volumeHint(v: PodVolumes, nodes: readonly Node[]): string {
  if (v.kind !== 'constrained') return '';
  const parts: string[] = [];
  for (const b of v.bound) {
    const node = pinnedNode(b.volume);
    if (!node) continue;
    const exists = nodes.some((n) => n.metadata?.name === node);
    parts.push(`persistentvolumeclaim "${b.claim}" is bound to volume "${b.volume.metadata?.name ?? ''}" on node "${node}"${exists ? '' : ', which does not exist'}`);
  }
  return parts.length ? ` ${parts.join('; ')}.` : '';
}
