// Storage kinds: what the local-path provisioner and binder can carry out is accepted (with
// Kubernetes' defaults), the rest is Invalid with the field's path.
import { describe, expect, it } from 'vitest';
import { fromManifest, type JsonObject } from '../../../proto/api/manifest.js';
import { applyCreateDefaults, applyDefaults } from '../defaults.js';
import { validateObject, validateUpdate } from './index.js';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../../proto/gen/skiff/v1/storage.js';

function parse(doc: JsonObject): ReturnType<typeof fromManifest> {
  const r = fromManifest(doc);
  applyDefaults(r.info, r.object);
  return r;
}

function problems(doc: JsonObject): string[] {
  const { info, object } = parse(doc);
  return validateObject(info, object).map((c) => `${c.field}: ${c.message}`);
}

const pvc = (spec: JsonObject): JsonObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec });
const pv = (spec: JsonObject): JsonObject => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'disk' }, spec });
const sc = (rest: JsonObject): JsonObject => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast' }, ...rest });

const goodClaim = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } };
const affinity = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] }] } };

describe('PersistentVolumeClaim', () => {
  it('accepts a plain claim; defaults volumeMode; a new claim is Pending with pvc-protection', () => {
    expect(problems(pvc(goodClaim))).toEqual([]);
    const { info, object } = parse(pvc(goodClaim));
    applyCreateDefaults(info, object);
    const c = object as PersistentVolumeClaim;
    expect(c.spec?.volumeMode).toBe('Filesystem');
    expect(c.spec?.storageClassName).toBeUndefined();
    expect(c.status?.phase).toBe('Pending');
    expect(c.metadata?.finalizers).toEqual(['kubernetes.io/pvc-protection']);
  });

  it('refuses access modes a directory on one node cannot give, a missing size and Block mode', () => {
    expect(problems(pvc({ accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Block' }))).toEqual([
      'spec.accessModes[0]: unsupported value "ReadWriteMany": supported values: "ReadWriteOnce", "ReadWriteOncePod" (a local-path volume is one directory on one node: it cannot be shared between nodes)',
      'spec.volumeMode: unsupported value "Block": supported values: "Filesystem" (raw block volumes are not supported)',
    ]);
    expect(problems(pvc({ accessModes: [] }))).toEqual([
      'spec.accessModes: required: at least 1 access mode is required',
      'spec.resources.requests[storage]: required',
    ]);
    expect(problems(pvc({ ...goodClaim, resources: { requests: { storage: '0' } } }))).toEqual(['spec.resources.requests[storage]: Invalid value: "0": must be greater than zero']);
  });

  it('a claim\'s spec is immutable but for the class filled in once; no expansion', () => {
    const old = parse(pvc(goodClaim)).object;
    const next = parse(pvc({ ...goodClaim, storageClassName: 'local-path' }));
    expect(validateUpdate(next.info, next.object, old)).toEqual([]);
    const grown = parse(pvc({ ...goodClaim, storageClassName: 'local-path', resources: { requests: { storage: '2Gi' } } }));
    expect(validateUpdate(grown.info, grown.object, next.object).map((c) => c.field)).toEqual(['spec.resources.requests[storage]']);
    const other = parse(pvc({ ...goodClaim, storageClassName: 'other' }));
    expect(validateUpdate(other.info, other.object, next.object).map((c) => c.field)).toEqual(['spec.storageClassName']);
  });

  it('pods may use claims; the claim name is checked', () => {
    const podDoc = (claimName: string): JsonObject => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'a:1', volumeMounts: [{ name: 'd', mountPath: '/d' }] }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName } }] },
    });
    expect(problems(podDoc('data'))).toEqual([]);
    expect(problems(podDoc(''))).toEqual(['spec.volumes[0].persistentVolumeClaim.claimName: required']);
  });
});

describe('PersistentVolume', () => {
  it('accepts a local volume with node affinity and defaults Retain for a volume made by hand', () => {
    expect(problems(pv({ capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], local: { path: '/mnt/disk' }, nodeAffinity: affinity }))).toEqual([]);
    const v = parse(pv({ capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/srv/x' } })).object as PersistentVolume;
    expect(v.spec?.persistentVolumeReclaimPolicy).toBe('Retain');
  });

  it('names every problem: source, path, affinity, policy', () => {
    expect(problems(pv({ capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Recycle', local: { path: 'rel' } }))).toEqual([
      'spec.persistentVolumeReclaimPolicy: unsupported value "Recycle": supported values: "Delete", "Retain"',
      'spec.local.path: Invalid value: "rel": must be an absolute path',
      'spec.nodeAffinity: Local volumes require node affinity',
    ]);
    expect(problems(pv({ capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/a' }, local: { path: '/b' } }))).toEqual([
      'spec: may not specify more than 1 volume type',
      'spec.nodeAffinity: Local volumes require node affinity',
    ]);
    const badAffinity = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'k', operator: 'Near', values: [] }, { key: 'k', operator: 'In', values: [] }] }] } };
    expect(problems(pv({ capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/a' }, nodeAffinity: badAffinity }))).toEqual([
      'spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].operator: unsupported value "Near": supported values: "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"',
      "spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[1].values: must be specified when `operator` is 'In' or 'NotIn'",
    ]);
  });
});

describe('StorageClass', () => {
  it('defaults Delete and Immediate as Kubernetes', () => {
    const s = parse(sc({ provisioner: 'kubernetes.io/no-provisioner' })).object as StorageClass;
    expect([s.reclaimPolicy, s.volumeBindingMode]).toEqual(['Delete', 'Immediate']);
    expect(problems(sc({ provisioner: 'kubernetes.io/no-provisioner' }))).toEqual([]);
  });

  it('refuses provisioners Skiff does not run and local-path without WaitForFirstConsumer', () => {
    expect(problems(sc({ provisioner: 'ebs.csi.aws.com' }))).toEqual([
      'provisioner: unsupported value "ebs.csi.aws.com": supported values: "skiff.io/local-path", "kubernetes.io/no-provisioner" (Skiff runs no external provisioners)',
    ]);
    expect(problems(sc({ provisioner: 'skiff.io/local-path' }))[0]).toMatch(/^volumeBindingMode: Invalid value: "Immediate": .* needs "WaitForFirstConsumer"$/);
    expect(problems(sc({ provisioner: 'skiff.io/local-path', volumeBindingMode: 'WaitForFirstConsumer' }))).toEqual([]);
  });

  it('is immutable but for metadata', () => {
    const old = parse(sc({ provisioner: 'skiff.io/local-path', volumeBindingMode: 'WaitForFirstConsumer' })).object;
    const next = parse(sc({ provisioner: 'skiff.io/local-path', volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Retain' }));
    expect(validateUpdate(next.info, next.object, old).map((c) => c.field)).toEqual(['reclaimPolicy']);
  });
});
