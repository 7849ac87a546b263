// get and describe of claims, volumes and classes, as kubectl prints them.
import { describe, expect, it } from 'vitest';
import { KINDS } from '../../proto/api/kinds.js';
import { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../proto/gen/skiff/v1/storage.js';
import { Pod } from '../../proto/gen/skiff/v1/core.js';
import { buildTable } from '../../proto/api/columns/columns.js';
import { describeObject } from './describe.js';
import { formatTable } from './table.js';
import { NOW } from '../testing/objects.js';

const created = new Date(NOW - 120_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const opts = { wide: false, withNamespace: false, now: NOW };

const bound = PersistentVolumeClaim.fromPartial({
  metadata: { name: 'data', namespace: 'default', creationTimestamp: created, finalizers: ['kubernetes.io/pvc-protection'] },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'local-path', volumeName: 'pvc-123', volumeMode: 'Filesystem' },
  status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } },
});
const waiting = PersistentVolumeClaim.fromPartial({
  metadata: { name: 'logs', namespace: 'default', creationTimestamp: created },
  spec: { accessModes: ['ReadWriteOncePod'], resources: { requests: { storage: '5Gi' } }, storageClassName: 'local-path' },
  status: { phase: 'Pending' },
});
const pv = PersistentVolume.fromPartial({
  metadata: { name: 'pvc-123', creationTimestamp: created, finalizers: ['kubernetes.io/pv-protection', 'skiff.io/local-path-cleanup'] },
  spec: {
    capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'local-path',
    claimRef: { namespace: 'default', name: 'data', uid: 'u' }, hostPath: { path: '/var/lib/skiff/volumes/local-path/pvc-123', type: 'DirectoryOrCreate' },
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] }] } },
  },
  status: { phase: 'Bound' },
});
const sc = StorageClass.fromPartial({
  metadata: { name: 'local-path', creationTimestamp: created, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  provisioner: 'skiff.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer',
});

describe('storage tables', () => {
  it('pvc: NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS AGE', () => {
    expect(formatTable(buildTable(KINDS.PersistentVolumeClaim, [bound, waiting], opts))).toBe([
      'NAME   STATUS    VOLUME    CAPACITY   ACCESS MODES   STORAGECLASS   AGE',
      'data   Bound     pvc-123   1Gi        RWO            local-path     2m',
      'logs   Pending                                       local-path     2m',
    ].join('\n'));
  });

  it('pv: NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS REASON AGE', () => {
    expect(formatTable(buildTable(KINDS.PersistentVolume, [pv], opts))).toBe([
      'NAME      CAPACITY   ACCESS MODES   RECLAIM POLICY   STATUS   CLAIM          STORAGECLASS   REASON   AGE',
      'pvc-123   1Gi        RWO            Delete           Bound    default/data   local-path              2m',
    ].join('\n'));
  });

  it('sc marks the default class', () => {
    expect(formatTable(buildTable(KINDS.StorageClass, [sc], opts)).split('\n')[1]).toBe(
      'local-path (default)   skiff.io/local-path   Delete          WaitForFirstConsumer   false                  2m',
    );
  });

  it('describe pvc lists the pods using it; describe pv shows affinity and source', () => {
    const user = Pod.fromPartial({ metadata: { name: 'web-0', namespace: 'default' } });
    const text = describeObject(KINDS.PersistentVolumeClaim, bound, { events: [], claimUsers: [user], now: NOW });
    expect(text).toMatch(/Status:\s+Bound/);
    expect(text).toMatch(/Used By:\s+web-0/);
    const v = describeObject(KINDS.PersistentVolume, pv, { events: [], now: NOW });
    expect(v).toMatch(/Claim:\s+default\/data/);
    expect(v).toMatch(/Term 0:\s+kubernetes.io\/hostname in \[n1\]/);
    expect(v).toMatch(/Path:\s+\/var\/lib\/skiff\/volumes\/local-path\/pvc-123/);
  });
});
