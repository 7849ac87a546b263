import { describe, expect, it } from 'vitest';
import { PersistentVolume } from '../../../proto/gen/skiff/v1/storage.js';
import { LOCAL_PATH_FINALIZER, PV_PROTECTION_FINALIZER } from '../../../proto/api/storage.js';
import { planLocalPath } from './decide.js';

const BASE = '/var/lib/skiff/volumes/local-path';

function pv(name: string, o: { node?: string; path?: string; provisioned?: boolean; deleting?: boolean; finalizers?: string[] } = {}): PersistentVolume {
  return PersistentVolume.fromPartial({
    metadata: {
      name,
      annotations: o.provisioned === false ? {} : { 'pv.kubernetes.io/provisioned-by': 'skiff.io/local-path' },
      deletionTimestamp: o.deleting ? '2026-01-01T00:00:00Z' : '',
      finalizers: o.finalizers ?? [PV_PROTECTION_FINALIZER, LOCAL_PATH_FINALIZER],
    },
    spec: {
      hostPath: { path: o.path ?? `${BASE}/${name}`, type: 'DirectoryOrCreate' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [o.node ?? 'n1'] }] }] } },
    },
  });
}

describe('planLocalPath', () => {
  it('keeps a directory for every live volume provisioned for this node', () => {
    const plan = planLocalPath([pv('a'), pv('b', { node: 'n2' }), pv('c', { provisioned: false })], 'n1', BASE);
    expect(plan).toEqual({ ensure: [`${BASE}/a`], remove: [] });
  });

  it('removes the data of a deleted volume only once its last finalizer is the cleanup one', () => {
    const held = pv('a', { deleting: true });
    const ready = pv('b', { deleting: true, finalizers: [LOCAL_PATH_FINALIZER] });
    const plan = planLocalPath([held, ready], 'n1', BASE);
    expect(plan.ensure).toEqual([]);
    expect(plan.remove.map((r) => r.dir)).toEqual([`${BASE}/b`]);
  });

  it('never touches a path outside its own directory, whatever the volume says', () => {
    for (const path of ['/etc', `${BASE}/other`, `${BASE}/../a`, BASE]) {
      const plan = planLocalPath([pv('a', { path, deleting: true, finalizers: [LOCAL_PATH_FINALIZER] })], 'n1', BASE);
      expect(plan).toEqual({ ensure: [], remove: [] });
    }
  });
});
