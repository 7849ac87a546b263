// The volume binding controller and the scheduler together on a real etcd behind the real API
// server (defaults, pvc-protection, finalizer semantics): a local-path claim is bound on the
// node of its first pod, later pods follow it there, a deleted claim waits for its pods, and
// reclaim Delete/Retain take their course.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unwrapAs, wrap } from '../../../proto/api/kinds.js';
import { fromManifest, type JsonObject } from '../../../proto/api/manifest.js';
import { LOCAL_PATH_DIR_ANNOTATION, LOCAL_PATH_FINALIZER } from '../../../proto/api/storage.js';
import type { Node, Pod } from '../../../proto/gen/skiff/v1/core.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../../proto/gen/skiff/v1/storage.js';
import { testStore, type TestStore } from '../../../test/helpers/etcd-client.js';
import { until } from '../../../test/helpers/wait.js';
import { startTestServer, type TestServer } from '../../api/testing.js';
import { StoreControllerClient } from '../client.js';
import { ClientEventRecorder } from '../events.js';
import { SchedulerController } from '../scheduler/controller.js';
import { VolumeBindingController } from './controller.js';

let ts: TestStore;
let srv: TestServer;
let scheduler: SchedulerController;
let binder: VolumeBindingController;

const create = async (d: JsonObject): Promise<void> => {
  const { info, object } = fromManifest(d);
  await srv.api.create({ object: wrap(info.kind, object) });
};

const nodeDoc = (name: string): JsonObject => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, annotations: { [LOCAL_PATH_DIR_ANNOTATION]: `/var/lib/skiff/${name}/local-path` } },
  status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, capacity: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
});

const claimDoc = (name: string, cls?: string): JsonObject => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...(cls ? { storageClassName: cls } : {}) },
});

const podDoc = (name: string, claim: string): JsonObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'app:1' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: claim } }] },
});

const claim = async (name: string): Promise<PersistentVolumeClaim | undefined> => {
  const l = await srv.api.list({ kind: 'PersistentVolumeClaim', namespace: 'default', fieldSelector: `metadata.name=${name}` });
  return l.items.map((r) => unwrapAs('PersistentVolumeClaim', r))[0];
};
const volume = async (name: string): Promise<PersistentVolume | undefined> => {
  const l = await srv.api.list({ kind: 'PersistentVolume', fieldSelector: `metadata.name=${name}` });
  return l.items.map((r) => unwrapAs('PersistentVolume', r))[0];
};
const pod = async (name: string): Promise<Pod> => unwrapAs('Pod', await srv.api.get({ kind: 'Pod', namespace: 'default', name }));

/** What the pod's node agent reports when the pod is done. */
async function finish(name: string): Promise<void> {
  const p = await pod(name);
  p.status!.phase = 'Succeeded';
  await srv.api.update({ object: wrap('Pod', p), subresource: 'status' });
}

beforeEach(async () => {
  ts = testStore();
  srv = await startTestServer(ts.store);
  const client = new StoreControllerClient(ts.store);
  scheduler = new SchedulerController({ store: ts.store, informers: srv.informers, recorder: new ClientEventRecorder(client, { component: 'default-scheduler' }) });
  binder = new VolumeBindingController({ informers: srv.informers, client, recorder: new ClientEventRecorder(client, { component: 'persistentvolume-controller' }) });
  for (const n of ['n1', 'n2', 'n3']) await ts.store.create('Node', fromManifest(nodeDoc(n)).object as Node);
  await scheduler.start();
  await binder.start();
});

afterEach(async () => {
  await binder.stop();
  await scheduler.stop();
  await srv.stop();
  await ts.close();
});

describe('volume binding on etcd', () => {
  it('binds a local-path claim on its first pod\'s node; later pods follow; deleting it waits for its pods, then removes the volume', async () => {
    await create(claimDoc('data'));
    await create(podDoc('first', 'data'));
    await until(async () => (await pod('first')).spec?.nodeName !== '', 20_000, 'first pod bound');
    const nodeName = (await pod('first')).spec!.nodeName;
    const bound = (await claim('data'))!;
    expect(bound.spec?.storageClassName).toBe('local-path');
    expect(bound.status?.phase).toBe('Bound');
    expect(bound.status?.capacity).toEqual({ storage: '1Gi' });
    const pvName = bound.spec!.volumeName;
    const pv = (await volume(pvName))!;
    expect(pv.spec?.hostPath?.path).toBe(`/var/lib/skiff/${nodeName}/local-path/${pvName}`);
    expect(pv.status?.phase).toBe('Bound');

    for (const n of ['second', 'third']) await create(podDoc(n, 'data'));
    await until(async () => (await pod('second')).spec?.nodeName !== '' && (await pod('third')).spec?.nodeName !== '', 20_000, 'later pods bound');
    expect([(await pod('second')).spec?.nodeName, (await pod('third')).spec?.nodeName]).toEqual([nodeName, nodeName]);

    await srv.api.delete({ kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data' });
    const held = (await claim('data'))!;
    expect(held.metadata?.deletionTimestamp).not.toBe('');
    for (const n of ['first', 'second']) await finish(n);
    // Still one pod running on it: the claim stays.
    await new Promise((r) => setTimeout(r, 300));
    expect(await claim('data')).toBeDefined();
    await finish('third');
    await until(async () => (await claim('data')) === undefined, 20_000, 'claim gone');
    // Delete policy: the volume is deleted and waits (only) for its node agent's cleanup.
    await until(async () => {
      const v = await volume(pvName);
      return !!v?.metadata?.deletionTimestamp && v.metadata.finalizers.join() === LOCAL_PATH_FINALIZER;
    }, 20_000, 'volume deleting, held for its directory');
    const v = (await volume(pvName))!;
    v.metadata!.finalizers = [];
    await srv.api.update({ object: wrap('PersistentVolume', v) });
    expect(await volume(pvName)).toBeUndefined();
  });

  it('Retain keeps the volume Released after its claim is gone', async () => {
    await create({
      apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'keep' },
      provisioner: 'skiff.io/local-path', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer',
    });
    await create(claimDoc('db', 'keep'));
    await create(podDoc('db-0', 'db'));
    await until(async () => (await claim('db'))?.status?.phase === 'Bound', 20_000, 'claim bound');
    const pvName = (await claim('db'))!.spec!.volumeName;
    await finish('db-0');
    await srv.api.delete({ kind: 'PersistentVolumeClaim', namespace: 'default', name: 'db' });
    await until(async () => (await volume(pvName))?.status?.phase === 'Released', 20_000, 'volume released');
    await new Promise((r) => setTimeout(r, 300));
    const pv = (await volume(pvName))!;
    expect(pv.metadata?.deletionTimestamp).toBe('');
    expect(pv.spec?.persistentVolumeReclaimPolicy).toBe('Retain');
  });
});
