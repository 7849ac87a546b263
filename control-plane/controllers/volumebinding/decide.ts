// The binding decisions as pure functions over a snapshot (Kubernetes' PV controller, narrowed
// to Skiff's provisioners): one claim or one volume in, the writes it needs now out. Level-based
// and one step per pass: the volume side of a binding (claimRef) is written first and the claim
// side (volumeName) follows on the next pass, as in Kubernetes, so a crash between the two
// writes is finished by the next pass instead of binding a volume twice.
import type { Node, Pod } from '../../../proto/gen/skiff/v1/core.js';
import {
  PersistentVolume, PersistentVolumeClaim, type PersistentVolumeClaimStatus, type PersistentVolumeStatus, type StorageClass,
} from '../../../proto/gen/skiff/v1/storage.js';
import {
  hostnameAffinity, LOCAL_PATH_DIR_ANNOTATION, LOCAL_PATH_FINALIZER, LOCAL_PATH_PROVISIONER, PROVISIONED_BY_ANNOTATION,
  provisionedVolumeName, PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER, SELECTED_NODE_ANNOTATION,
} from '../../../proto/api/storage.js';
import { claimClass, defaultClass, findBestMatch, podsUsingClaim, refersTo } from '../storage/match.js';

export interface Snapshot {
  claims: ReadonlyMap<string, PersistentVolumeClaim>;
  volumes: ReadonlyMap<string, PersistentVolume>;
  classes: ReadonlyMap<string, StorageClass>;
  nodes: ReadonlyMap<string, Node>;
  pods: readonly Pod[];
}

export type Write =
  | { op: 'createVolume'; object: PersistentVolume }
  | { op: 'updateVolume'; object: PersistentVolume }
  | { op: 'volumeStatus'; object: PersistentVolume; status: PersistentVolumeStatus }
  | { op: 'deleteVolume'; object: PersistentVolume }
  | { op: 'updateClaim'; object: PersistentVolumeClaim }
  | { op: 'claimStatus'; object: PersistentVolumeClaim; status: PersistentVolumeClaimStatus };

export interface PlanEvent {
  kind: 'PersistentVolumeClaim' | 'PersistentVolume';
  object: PersistentVolumeClaim | PersistentVolume;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface Plan {
  writes: Write[];
  events: PlanEvent[];
}

const none = (): Plan => ({ writes: [], events: [] });

function claimKey(c: PersistentVolumeClaim): string {
  return `${c.metadata?.namespace ?? ''}/${c.metadata?.name ?? ''}`;
}

function withoutFinalizer<T extends PersistentVolume | PersistentVolumeClaim>(o: T, codec: { fromPartial(x: T): T }, f: string): T {
  const next = codec.fromPartial(o);
  next.metadata!.finalizers = next.metadata!.finalizers.filter((x) => x !== f);
  return next;
}

function claimStatus(claim: PersistentVolumeClaim, status: PersistentVolumeClaimStatus): Write | undefined {
  const cur = claim.status;
  if (cur && JSON.stringify(cur) === JSON.stringify(status)) return undefined;
  return { op: 'claimStatus', object: claim, status };
}

function volumeStatus(pv: PersistentVolume, phase: string, message = '', reason = ''): Write | undefined {
  const cur = pv.status;
  if (cur?.phase === phase && cur.message === message && cur.reason === reason) return undefined;
  return { op: 'volumeStatus', object: pv, status: { phase, message, reason } };
}

const pending = (claim: PersistentVolumeClaim): Write | undefined =>
  claimStatus(claim, { phase: 'Pending', accessModes: [], capacity: {} });

function plan(writes: (Write | undefined)[], events: PlanEvent[] = []): Plan {
  return { writes: writes.filter((w): w is Write => w !== undefined), events };
}

function claimEvent(claim: PersistentVolumeClaim, type: 'Normal' | 'Warning', reason: string, message: string): PlanEvent {
  return { kind: 'PersistentVolumeClaim', object: claim, type, reason, message };
}

/** The volume the local-path provisioner makes for a claim on a node (directory under dir). */
export function provisionVolume(claim: PersistentVolumeClaim, sc: StorageClass, nodeName: string, dir: string): PersistentVolume {
  const m = claim.metadata!;
  const name = provisionedVolumeName(m.uid);
  return PersistentVolume.fromPartial({
    metadata: {
      name,
      annotations: { [PROVISIONED_BY_ANNOTATION]: LOCAL_PATH_PROVISIONER },
      finalizers: [PV_PROTECTION_FINALIZER, LOCAL_PATH_FINALIZER],
    },
    spec: {
      capacity: { storage: claim.spec?.resources?.requests.storage ?? '' },
      accessModes: [...(claim.spec?.accessModes ?? [])],
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: sc.metadata?.name ?? '',
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: m.namespace, name: m.name, uid: m.uid, resourceVersion: '', fieldPath: '' },
      hostPath: { path: `${dir.replace(/\/+$/, '')}/${name}`, type: 'DirectoryOrCreate' },
      nodeAffinity: { required: hostnameAffinity(nodeName) },
      volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
    },
    status: { phase: 'Bound', message: '', reason: '' },
  });
}

function bindVolume(pv: PersistentVolume, claim: PersistentVolumeClaim): Write {
  const next = PersistentVolume.fromPartial(pv);
  const m = claim.metadata!;
  next.spec!.claimRef = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: m.namespace, name: m.name, uid: m.uid, resourceVersion: '', fieldPath: '' };
  return { op: 'updateVolume', object: next };
}

function withoutSelectedNode(claim: PersistentVolumeClaim): Write {
  const next = PersistentVolumeClaim.fromPartial(claim);
  delete next.metadata!.annotations[SELECTED_NODE_ANNOTATION];
  return { op: 'updateClaim', object: next };
}

/** The next step for one claim. */
export function syncClaim(claim: PersistentVolumeClaim, snap: Snapshot): Plan {
  const m = claim.metadata!;
  if (m.deletionTimestamp) {
    const users = podsUsingClaim(claim, snap.pods);
    if (m.finalizers.includes(PVC_PROTECTION_FINALIZER) && users.length === 0) {
      return plan([{ op: 'updateClaim', object: withoutFinalizer(claim, PersistentVolumeClaim, PVC_PROTECTION_FINALIZER) }]);
    }
    return none();
  }
  const spec = claim.spec!;
  const def = spec.storageClassName === undefined ? defaultClass([...snap.classes.values()]) : undefined;
  if (def) {
    const next = PersistentVolumeClaim.fromPartial(claim);
    next.spec!.storageClassName = def.metadata!.name;
    return plan([{ op: 'updateClaim', object: next }]);
  }
  if (spec.volumeName) return syncBoundClaim(claim, snap);

  // A volume already reserved for (or made for) this claim: finish the claim's side.
  for (const pv of snap.volumes.values()) {
    if (pv.spec?.claimRef?.uid && refersTo(pv, claim) && !pv.metadata?.deletionTimestamp) {
      const next = PersistentVolumeClaim.fromPartial(claim);
      next.spec!.volumeName = pv.metadata!.name;
      return plan([{ op: 'updateClaim', object: next }]);
    }
  }
  // Unset with no default class: only volumes without a class fit, as in Kubernetes.
  const cls = claimClass(claim) ?? '';
  const sc = cls ? snap.classes.get(cls) : undefined;
  if (cls && !sc) {
    return plan([pending(claim)], [claimEvent(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${cls}" not found`)]);
  }
  const waitForConsumer = sc?.volumeBindingMode === 'WaitForFirstConsumer';
  const selected = m.annotations[SELECTED_NODE_ANNOTATION] ?? '';
  if (waitForConsumer && !selected) {
    return plan([pending(claim)], [claimEvent(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding')]);
  }
  const node = selected ? snap.nodes.get(selected) : undefined;
  if (selected && !node) {
    // The scheduler picks again once the annotation is gone.
    return plan([withoutSelectedNode(claim)], [claimEvent(claim, 'Warning', 'ProvisioningFailed', `node "${selected}" not found; the scheduler will choose again`)]);
  }
  if (sc?.provisioner === LOCAL_PATH_PROVISIONER) {
    const dir = node!.metadata?.annotations[LOCAL_PATH_DIR_ANNOTATION] ?? '';
    if (!dir) {
      return plan([pending(claim)], [claimEvent(claim, 'Warning', 'ProvisioningFailed',
        `node "${selected}" has not published its local-path directory (annotation ${LOCAL_PATH_DIR_ANNOTATION}): is its skiff-node-agent running?`)]);
    }
    const pv = provisionVolume(claim, sc, selected, dir);
    if (snap.volumes.has(pv.metadata!.name)) return none(); // made earlier; its claimRef binds next pass
    return plan([{ op: 'createVolume', object: pv }], [claimEvent(claim, 'Normal', 'ProvisioningSucceeded',
      `Successfully provisioned volume ${pv.metadata!.name} on node ${selected}`)]);
  }
  const match = findBestMatch(claim, [...snap.volumes.values()], node);
  if (match) return plan([bindVolume(match, claim)]);
  const why = cls ? `no persistent volumes available for this claim in storage class "${cls}"` : 'no persistent volumes available for this claim and no storage class is set';
  if (selected) return plan([withoutSelectedNode(claim)], [claimEvent(claim, 'Warning', 'FailedBinding', `${why} on node "${selected}"`)]);
  return plan([pending(claim)], [claimEvent(claim, 'Warning', 'FailedBinding', why)]);
}

function syncBoundClaim(claim: PersistentVolumeClaim, snap: Snapshot): Plan {
  const name = claim.spec!.volumeName;
  const pv = snap.volumes.get(name);
  if (!pv) {
    if (claim.status?.phase === 'Bound' || claim.status?.phase === 'Lost') {
      const lost = claimStatus(claim, { phase: 'Lost', accessModes: claim.status.accessModes, capacity: claim.status.capacity });
      return plan([lost], lost ? [claimEvent(claim, 'Warning', 'ClaimLost', `Bound claim has lost reference to PersistentVolume. Data on the volume is lost!`)] : []);
    }
    return plan([pending(claim)]);
  }
  const ref = pv.spec?.claimRef;
  if (!ref) return plan([bindVolume(pv, claim)]);
  if (!refersTo(pv, claim)) {
    return plan([pending(claim)], [claimEvent(claim, 'Warning', 'FailedBinding', `volume "${name}" already bound to a different claim.`)]);
  }
  if (!ref.uid) return plan([bindVolume(pv, claim)]);
  return plan([claimStatus(claim, {
    phase: 'Bound', accessModes: [...(pv.spec?.accessModes ?? [])], capacity: { ...(pv.spec?.capacity ?? {}) },
  })]);
}

/** The next step for one volume. */
export function syncVolume(pv: PersistentVolume, snap: Snapshot): Plan {
  const m = pv.metadata!;
  const phase = pv.status?.phase ?? '';
  if (m.deletionTimestamp) {
    if (m.finalizers.includes(PV_PROTECTION_FINALIZER) && phase !== 'Bound') {
      return plan([{ op: 'updateVolume', object: withoutFinalizer(pv, PersistentVolume, PV_PROTECTION_FINALIZER) }]);
    }
    return none();
  }
  const ref = pv.spec?.claimRef;
  if (!ref) return plan([volumeStatus(pv, 'Available')]);
  const claim = snap.claims.get(`${ref.namespace}/${ref.name}`);
  if (!ref.uid) return plan([volumeStatus(pv, 'Available')]); // reserved by name; the claim's pass binds it
  if (claim && claim.metadata?.uid === ref.uid) {
    if (claim.spec?.volumeName === m.name) return plan([volumeStatus(pv, 'Bound')]);
    // The binding is half done (claim side next); keep the volume held for it.
    return plan([volumeStatus(pv, 'Bound')]);
  }
  // The claim is gone: the volume is released and its reclaim policy applies.
  if (phase !== 'Released' && phase !== 'Failed') {
    return plan([volumeStatus(pv, 'Released')], [{
      kind: 'PersistentVolume', object: pv, type: 'Normal', reason: 'VolumeReleased',
      message: `claim ${ref.namespace}/${ref.name} was deleted; reclaim policy ${pv.spec?.persistentVolumeReclaimPolicy ?? ''}`,
    }]);
  }
  if (phase === 'Failed' || pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') return none();
  if (m.annotations[PROVISIONED_BY_ANNOTATION] === LOCAL_PATH_PROVISIONER) return plan([{ op: 'deleteVolume', object: pv }]);
  const message = `reclaim policy Delete is only carried out for volumes of the ${LOCAL_PATH_PROVISIONER} provisioner; remove the data and the volume by hand`;
  return plan([volumeStatus(pv, 'Failed', message, 'VolumeFailedDelete')], [{ kind: 'PersistentVolume', object: pv, type: 'Warning', reason: 'VolumeFailedDelete', message }]);
}

export { claimKey };
