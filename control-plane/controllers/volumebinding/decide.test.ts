import { describe, expect, it } from 'vitest';
import { Node, Pod } from '../../../proto/gen/skiff/v1/core.js';
import { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../../proto/gen/skiff/v1/storage.js';
import {
  LOCAL_PATH_DIR_ANNOTATION, LOCAL_PATH_FINALIZER, PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER, SELECTED_NODE_ANNOTATION,
} from '../../../proto/api/storage.js';
import { defaultStorageClass } from '../../api/default-storage-class.js';
import { syncClaim, syncVolume, type Snapshot } from './decide.js';

function claim(name: string, over: { cls?: string | null; volumeName?: string; annotations?: Record<string, string>; deleting?: boolean; phase?: string; modes?: string[] } = {}): PersistentVolumeClaim {
  return PersistentVolumeClaim.fromPartial({
    metadata: {
      name, namespace: 'default', uid: `uid-${name}`, annotations: over.annotations ?? {}, finalizers: [PVC_PROTECTION_FINALIZER],
      deletionTimestamp: over.deleting ? '2026-01-01T00:00:00Z' : '',
    },
    spec: {
      accessModes: over.modes ?? ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } },
      storageClassName: over.cls === null ? undefined : (over.cls ?? 'local-path'), volumeName: over.volumeName ?? '',
    },
    status: { phase: over.phase ?? 'Pending' },
  });
}

function node(name: string, dir?: string): Node {
  return Node.fromPartial({ metadata: { name, annotations: dir ? { [LOCAL_PATH_DIR_ANNOTATION]: dir } : {} } });
}

function volume(name: string, over: { ref?: PersistentVolumeClaim; refUid?: string; cls?: string; size?: string; phase?: string; policy?: string; provisioned?: boolean; deleting?: boolean; finalizers?: string[]; node?: string } = {}): PersistentVolume {
  const r = over.ref?.metadata;
  return PersistentVolume.fromPartial({
    metadata: {
      name, uid: `uid-${name}`, deletionTimestamp: over.deleting ? '2026-01-01T00:00:00Z' : '',
      annotations: over.provisioned ? { 'pv.kubernetes.io/provisioned-by': 'skiff.io/local-path' } : {},
      finalizers: over.finalizers ?? [PV_PROTECTION_FINALIZER],
    },
    spec: {
      capacity: { storage: over.size ?? '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: over.policy ?? 'Retain',
      storageClassName: over.cls ?? '', hostPath: { path: `/srv/${name}`, type: '' },
      claimRef: r ? { kind: 'PersistentVolumeClaim', namespace: r.namespace, name: r.name, uid: over.refUid ?? r.uid } : undefined,
      nodeAffinity: over.node ? { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [over.node] }] }] } } : undefined,
    },
    status: { phase: over.phase ?? 'Available' },
  });
}

function snap(parts: { claims?: PersistentVolumeClaim[]; volumes?: PersistentVolume[]; classes?: StorageClass[]; nodes?: Node[]; pods?: Pod[] }): Snapshot {
  return {
    claims: new Map((parts.claims ?? []).map((c) => [`${c.metadata!.namespace}/${c.metadata!.name}`, c])),
    volumes: new Map((parts.volumes ?? []).map((v) => [v.metadata!.name, v])),
    classes: new Map((parts.classes ?? [defaultStorageClass()]).map((s) => [s.metadata!.name, s])),
    nodes: new Map((parts.nodes ?? []).map((n) => [n.metadata!.name, n])),
    pods: parts.pods ?? [],
  };
}

const immediateClass = StorageClass.fromPartial({ metadata: { name: 'manual' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'Immediate', reclaimPolicy: 'Retain' });

describe('syncClaim', () => {
  it('fills in the default class of a claim that names none', () => {
    const p = syncClaim(claim('data', { cls: null }), snap({}));
    expect(p.writes).toHaveLength(1);
    expect(p.writes[0]!.op).toBe('updateClaim');
    expect((p.writes[0]!.object as PersistentVolumeClaim).spec?.storageClassName).toBe('local-path');
  });

  it('with no default class, a claim without one binds to a volume without a class', () => {
    const c = claim('data', { cls: null });
    const p = syncClaim(c, snap({ classes: [], claims: [c], volumes: [volume('plain', { size: '5Gi' })] }));
    expect(p.writes.map((w) => [w.op, w.object.metadata?.name])).toEqual([['updateVolume', 'plain']]);
  });

  it('waits for the first consumer: no volume before the scheduler names a node', () => {
    const p = syncClaim(claim('data'), snap({ nodes: [node('n1', '/var/lib/lp')] }));
    expect(p.writes).toEqual([]);
    expect(p.events.map((e) => e.reason)).toEqual(['WaitForFirstConsumer']);
  });

  it('provisions a directory volume pinned to the selected node, bound to the claim', () => {
    const c = claim('data', { annotations: { [SELECTED_NODE_ANNOTATION]: 'n2' } });
    const p = syncClaim(c, snap({ nodes: [node('n1', '/a'), node('n2', '/var/lib/lp/')] }));
    expect(p.writes.map((w) => w.op)).toEqual(['createVolume']);
    const pv = p.writes[0]!.object as PersistentVolume;
    expect(pv.metadata?.name).toBe('pvc-uid-data');
    expect(pv.metadata?.finalizers).toEqual([PV_PROTECTION_FINALIZER, LOCAL_PATH_FINALIZER]);
    expect(pv.spec?.hostPath).toEqual({ path: '/var/lib/lp/pvc-uid-data', type: 'DirectoryOrCreate' });
    expect(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions[0]).toEqual({ key: 'kubernetes.io/hostname', operator: 'In', values: ['n2'] });
    expect(pv.spec?.claimRef).toMatchObject({ namespace: 'default', name: 'data', uid: 'uid-data' });
    expect(pv.spec?.persistentVolumeReclaimPolicy).toBe('Delete');
    expect(pv.spec?.capacity).toEqual({ storage: '1Gi' });
  });

  it('waits with a warning while the selected node has not published its directory', () => {
    const c = claim('data', { annotations: { [SELECTED_NODE_ANNOTATION]: 'n1' } });
    const p = syncClaim(c, snap({ nodes: [node('n1')] }));
    expect(p.writes).toEqual([]);
    expect(p.events[0]?.message).toContain('has not published its local-path directory');
  });

  it('drops a selected node that is gone so the scheduler chooses again', () => {
    const c = claim('data', { annotations: { [SELECTED_NODE_ANNOTATION]: 'gone' } });
    const p = syncClaim(c, snap({ nodes: [node('n1', '/a')] }));
    expect(p.writes.map((w) => w.op)).toEqual(['updateClaim']);
    expect((p.writes[0]!.object as PersistentVolumeClaim).metadata?.annotations[SELECTED_NODE_ANNOTATION]).toBeUndefined();
  });

  it('finishes the claim side once the volume names it, then reports Bound with the volume\'s size and modes', () => {
    const c = claim('data', { annotations: { [SELECTED_NODE_ANNOTATION]: 'n1' } });
    const pv = volume('pvc-uid-data', { ref: c, provisioned: true, size: '2Gi' });
    const step1 = syncClaim(c, snap({ claims: [c], volumes: [pv], nodes: [node('n1', '/a')] }));
    expect(step1.writes.map((w) => w.op)).toEqual(['updateClaim']);
    const bound = step1.writes[0]!.object as PersistentVolumeClaim;
    expect(bound.spec?.volumeName).toBe('pvc-uid-data');
    const step2 = syncClaim(bound, snap({ claims: [bound], volumes: [pv] }));
    expect(step2.writes).toEqual([{ op: 'claimStatus', object: bound, status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '2Gi' } } }]);
  });

  it('binds an Immediate claim to the smallest fitting volume of its class', () => {
    const c = claim('db', { cls: 'manual' });
    const vols = [volume('big', { cls: 'manual', size: '10Gi' }), volume('small', { cls: 'manual', size: '1Gi' }), volume('tiny', { cls: 'manual', size: '100Mi' }), volume('other', { cls: '', size: '1Gi' })];
    const p = syncClaim(c, snap({ claims: [c], volumes: vols, classes: [immediateClass] }));
    expect(p.writes.map((w) => [w.op, w.object.metadata?.name])).toEqual([['updateVolume', 'small']]);
    expect((p.writes[0]!.object as PersistentVolume).spec?.claimRef).toMatchObject({ name: 'db', uid: 'uid-db' });
  });

  it('reports a claim nothing can satisfy', () => {
    const c = claim('db', { cls: 'manual' });
    const p = syncClaim(c, snap({ claims: [c], volumes: [volume('tiny', { cls: 'manual', size: '100Mi' })], classes: [immediateClass] }));
    expect(p.writes).toEqual([]);
    expect(p.events[0]).toMatchObject({ reason: 'FailedBinding', message: 'no persistent volumes available for this claim in storage class "manual"' });
  });

  it('names a missing class', () => {
    const p = syncClaim(claim('x', { cls: 'fast' }), snap({}));
    expect(p.events[0]?.message).toBe('storageclass.storage.k8s.io "fast" not found');
  });

  it('keeps a deleted claim while an unfinished pod mounts it, and lets it go after', () => {
    const c = claim('data', { deleting: true, volumeName: 'v', phase: 'Bound' });
    const user = Pod.fromPartial({ metadata: { name: 'p', namespace: 'default' }, spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] }, status: { phase: 'Running' } });
    expect(syncClaim(c, snap({ pods: [user] })).writes).toEqual([]);
    const done = Pod.fromPartial({ ...user, status: { phase: 'Succeeded' } });
    const p = syncClaim(c, snap({ pods: [done] }));
    expect(p.writes.map((w) => w.op)).toEqual(['updateClaim']);
    expect(p.writes[0]!.object.metadata?.finalizers).toEqual([]);
  });

  it('marks a bound claim Lost when its volume disappears', () => {
    const c = claim('data', { volumeName: 'v', phase: 'Bound' });
    const p = syncClaim(c, snap({}));
    expect(p.writes[0]).toMatchObject({ op: 'claimStatus', status: { phase: 'Lost' } });
    expect(p.events[0]?.reason).toBe('ClaimLost');
  });
});

describe('syncVolume (reclaim)', () => {
  const gone = claim('data');

  it('a volume whose claim is deleted is Released', () => {
    const pv = volume('v', { ref: gone, phase: 'Bound', policy: 'Delete', provisioned: true });
    const p = syncVolume(pv, snap({}));
    expect(p.writes).toEqual([{ op: 'volumeStatus', object: pv, status: { phase: 'Released', message: '', reason: '' } }]);
  });

  it('Delete policy: a released provisioned volume is deleted (its directory goes with the node agent)', () => {
    const pv = volume('v', { ref: gone, phase: 'Released', policy: 'Delete', provisioned: true });
    expect(syncVolume(pv, snap({})).writes.map((w) => w.op)).toEqual(['deleteVolume']);
  });

  it('Retain policy: a released volume stays Released with its data', () => {
    const pv = volume('v', { ref: gone, phase: 'Released', policy: 'Retain', provisioned: true });
    expect(syncVolume(pv, snap({})).writes).toEqual([]);
  });

  it('Delete policy on a volume made by hand fails rather than deleting a directory it does not own', () => {
    const pv = volume('v', { ref: gone, phase: 'Released', policy: 'Delete' });
    const p = syncVolume(pv, snap({}));
    expect(p.writes[0]).toMatchObject({ op: 'volumeStatus', status: { phase: 'Failed', reason: 'VolumeFailedDelete' } });
  });

  it('a claim re-created under the same name does not keep the old volume bound', () => {
    const again = claim('data');
    again.metadata!.uid = 'uid-new';
    const pv = volume('v', { ref: gone, phase: 'Bound', policy: 'Retain' });
    expect(syncVolume(pv, snap({ claims: [again] })).writes[0]).toMatchObject({ status: { phase: 'Released' } });
  });

  it('a volume of a live claim is Bound; one without a claim is Available', () => {
    expect(syncVolume(volume('v', { ref: gone, phase: 'Available' }), snap({ claims: [gone] })).writes[0]).toMatchObject({ status: { phase: 'Bound' } });
    expect(syncVolume(volume('w', { phase: 'Released' }), snap({})).writes[0]).toMatchObject({ status: { phase: 'Available' } });
  });

  it('pv-protection is lifted from a deleted volume only once it is not Bound', () => {
    const bound = volume('v', { ref: gone, phase: 'Bound', deleting: true });
    expect(syncVolume(bound, snap({ claims: [gone] })).writes).toEqual([]);
    const released = volume('v', { ref: gone, phase: 'Released', deleting: true, finalizers: [PV_PROTECTION_FINALIZER, LOCAL_PATH_FINALIZER] });
    const p = syncVolume(released, snap({}));
    expect(p.writes[0]!.object.metadata?.finalizers).toEqual([LOCAL_PATH_FINALIZER]);
  });
});
