// The VolumeBinding share of scheduling: claims pin pods to their volume's node, unbound
// WaitForFirstConsumer claims get the chosen node, everything else waits with a reason.
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../../proto/gen/skiff/v1/storage.js';
import { SELECTED_NODE_ANNOTATION } from '../../../proto/api/storage.js';
import { defaultStorageClass } from '../../api/default-storage-class.js';
import { node, pod } from './fixtures.js';
import { schedule } from './schedule.js';
import type { VolumeState } from './volumes.js';

function withClaim(p: Pod, ...claims: string[]): Pod {
  p.spec!.volumes = claims.map((c) => ({ name: c, persistentVolumeClaim: { claimName: c, readOnly: false } }));
  return p;
}

function claim(name: string, o: { volumeName?: string; cls?: string | null; selected?: string; deleting?: boolean; modes?: string[] } = {}): PersistentVolumeClaim {
  return PersistentVolumeClaim.fromPartial({
    metadata: {
      name, namespace: 'default', uid: `uid-${name}`, deletionTimestamp: o.deleting ? '2026-01-01T00:00:00Z' : '',
      annotations: o.selected ? { [SELECTED_NODE_ANNOTATION]: o.selected } : {},
    },
    spec: {
      accessModes: o.modes ?? ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } },
      storageClassName: o.cls === null ? undefined : (o.cls ?? 'local-path'), volumeName: o.volumeName ?? '',
    },
  });
}

function volumeOn(name: string, nodeName: string, c?: PersistentVolumeClaim, cls = ''): PersistentVolume {
  const m = c?.metadata;
  return PersistentVolume.fromPartial({
    metadata: { name },
    spec: {
      capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: cls,
      claimRef: m ? { namespace: m.namespace, name: m.name, uid: m.uid } : undefined,
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] }] }] } },
      local: { path: `/mnt/${name}` },
    },
  });
}

function state(claims: PersistentVolumeClaim[], volumes: PersistentVolume[] = [], classes: StorageClass[] = [defaultStorageClass()]): VolumeState {
  return {
    claims: new Map(claims.map((c) => [`default/${c.metadata!.name}`, c])),
    volumes: new Map(volumes.map((v) => [v.metadata!.name, v])),
    classes: new Map(classes.map((s) => [s.metadata!.name, s])),
  };
}

const nodes = [node('n1'), node('n2'), node('n3')];

describe('scheduling pods with persistentVolumeClaim volumes', () => {
  it('a pod whose claim is missing stays Pending with Kubernetes\' message', () => {
    const r = schedule({ nodes, pods: [], volumes: state([]) }, [withClaim(pod('p'), 'data')]);
    expect(r.bindings).toEqual([]);
    expect(r.failures[0]?.message).toBe('0/3 nodes are available: persistentvolumeclaim "data" not found.');
  });

  it('a pod of a claim being deleted is not placed', () => {
    const r = schedule({ nodes, pods: [], volumes: state([claim('data', { deleting: true })]) }, [withClaim(pod('p'), 'data')]);
    expect(r.failures[0]?.message).toContain('persistentvolumeclaim "data" is being deleted');
  });

  it('an unbound WaitForFirstConsumer claim gets the chosen node, and the pod waits for the binding', () => {
    const r = schedule({ nodes, pods: [], volumes: state([claim('data')]) }, [withClaim(pod('p', { cpu: '1' }), 'data')]);
    expect(r.bindings).toEqual([]);
    expect(r.failures).toEqual([]);
    expect(r.selections).toHaveLength(1);
    expect(r.selections[0]!.nodeName).toBe('n1');
    expect(r.selections[0]!.claims.map((c) => c.metadata?.name)).toEqual(['data']);
  });

  it('while the binding is in progress (node named, or default class not filled in) the pod neither binds nor fails', () => {
    for (const c of [claim('data', { selected: 'n2' }), claim('data', { cls: null })]) {
      const r = schedule({ nodes, pods: [], volumes: state([c]) }, [withClaim(pod('p'), 'data')]);
      expect([r.bindings, r.failures, r.selections]).toEqual([[], [], []]);
    }
  });

  it('pods of a bound claim go only to the volume\'s node', () => {
    const c = claim('data', { volumeName: 'v' });
    const pods = [1, 2, 3, 4].map((i) => withClaim(pod(`p${i}`), 'data'));
    const r = schedule({ nodes, pods: [], volumes: state([c], [volumeOn('v', 'n2', c)]) }, pods);
    expect(r.bindings.map((b) => b.nodeName)).toEqual(['n2', 'n2', 'n2', 'n2']);
  });

  it('a claim whose volume\'s node is NotReady keeps the pod Pending and says where the volume is', () => {
    const c = claim('data', { volumeName: 'v' });
    const r = schedule({ nodes: [node('n1'), node('n2', { ready: false })], pods: [], volumes: state([c], [volumeOn('v', 'n2', c)]) }, [withClaim(pod('p'), 'data')]);
    expect(r.failures[0]?.message).toBe(
      '0/2 nodes are available: 1 node(s) were NotReady, 1 node(s) had volume node affinity conflict. persistentvolumeclaim "data" is bound to volume "v" on node "n2".',
    );
  });

  it('a claim whose volume\'s node is gone says so', () => {
    const c = claim('data', { volumeName: 'v' });
    const r = schedule({ nodes, pods: [], volumes: state([c], [volumeOn('v', 'gone', c)]) }, [withClaim(pod('p'), 'data')]);
    expect(r.failures[0]?.message).toContain('on node "gone", which does not exist.');
  });

  it('an unbound claim of an Immediate class waits for the binder', () => {
    const manual = StorageClass.fromPartial({ metadata: { name: 'manual' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'Immediate' });
    const r = schedule({ nodes, pods: [], volumes: state([claim('data', { cls: 'manual' })], [], [manual]) }, [withClaim(pod('p'), 'data')]);
    expect(r.failures[0]?.message).toContain('pod has unbound immediate PersistentVolumeClaims');
  });

  it('no-provisioner WaitForFirstConsumer: only nodes with a fitting free volume are feasible', () => {
    const local = StorageClass.fromPartial({ metadata: { name: 'local' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' });
    const r = schedule({ nodes, pods: [], volumes: state([claim('data', { cls: 'local' })], [volumeOn('disk', 'n3', undefined, 'local')], [local]) }, [withClaim(pod('p'), 'data')]);
    expect(r.selections.map((s) => s.nodeName)).toEqual(['n3']);
    const none = schedule({ nodes, pods: [], volumes: state([claim('data', { cls: 'local' })], [], [local]) }, [withClaim(pod('p'), 'data')]);
    expect(none.failures[0]?.message).toBe("0/3 nodes are available: 3 node(s) didn't find available persistent volumes to bind.");
  });

  it('ReadWriteOncePod: a second pod of the claim is refused while the first holds it', () => {
    const c = claim('data', { volumeName: 'v', modes: ['ReadWriteOncePod'] });
    const holder = withClaim(pod('first', { nodeName: 'n1', phase: 'Running' }), 'data');
    const r = schedule({ nodes, pods: [holder], volumes: state([c], [volumeOn('v', 'n1', c)]) }, [withClaim(pod('second'), 'data')]);
    expect(r.failures[0]?.message).toContain('has access mode ReadWriteOncePod and is used by pod default/first');
    const batch = schedule({ nodes, pods: [], volumes: state([c], [volumeOn('v', 'n1', c)]) }, [withClaim(pod('a'), 'data'), withClaim(pod('b'), 'data')]);
    expect(batch.bindings.map((b) => b.pod.metadata?.name)).toEqual(['a']);
    expect(batch.failures.map((f) => f.pod.metadata?.name)).toEqual(['b']);
  });
});
