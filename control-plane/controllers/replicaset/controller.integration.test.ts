// The ReplicaSet controller on a real etcd through shared informers: pod names, scaling both
// ways, adoption of a matching orphan, release of a pod relabelled away, and its events.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromManifest } from '../../../proto/api/manifest.js';
import type { ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import { testStore, type TestStore } from '../../../test/helpers/etcd-client.js';
import { until } from '../../../test/helpers/wait.js';
import { SharedInformers } from '../../informers.js';
import { StoreControllerClient } from '../client.js';
import { ClientEventRecorder } from '../events.js';
import { ReplicaSetController } from './controller.js';

let ts: TestStore;
let informers: SharedInformers;
let recorder: ClientEventRecorder;
let rsc: ReplicaSetController;

function rsManifest(replicas: number): ReplicaSet {
  return fromManifest({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-abc', namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'app:1' }] } },
    },
  }).object as ReplicaSet;
}

const pods = async (): Promise<Pod[]> => (await ts.store.list('Pod')).items;
const owned = async (uid: string): Promise<Pod[]> =>
  (await pods()).filter((p) => p.metadata?.ownerReferences.some((r) => r.uid === uid && r.controller));

beforeEach(async () => {
  ts = testStore();
  informers = new SharedInformers(ts.store);
  const client = new StoreControllerClient(ts.store);
  recorder = new ClientEventRecorder(client, { component: 'replicaset-controller' });
  rsc = new ReplicaSetController({ informers, client, recorder });
  await rsc.start();
});

afterEach(async () => {
  await rsc.stop();
  await informers.stop();
  await recorder.flush();
  await ts.close();
});

describe('ReplicaSetController on etcd', () => {
  it('creates, scales down, adopts and releases; publishes status and events', async () => {
    const rs = await ts.store.create('ReplicaSet', rsManifest(3));
    const uid = rs.metadata!.uid;
    await until(async () => (await owned(uid)).length === 3, 10_000, '3 pods');
    for (const p of await pods()) expect(p.metadata?.name).toMatch(/^web-abc-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    await until(async () => (await ts.store.get('ReplicaSet', 'default', 'web-abc')).status?.replicas === 3, 10_000, 'status 3');

    // A matching orphan is adopted, so the ReplicaSet now has one pod too many and deletes one.
    await ts.store.create('Pod', fromManifest({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'stray', namespace: 'default', labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'app:1' }] },
    }).object as Pod);
    await until(async () => (await owned(uid)).length === 3 && (await pods()).length === 3, 10_000, 'adopted and back to 3');

    // A pod relabelled away is released and replaced.
    const victim = (await owned(uid))[0]!;
    await ts.store.guaranteedUpdate('Pod', 'default', victim.metadata!.name, (p) => {
      p.metadata!.labels = { app: 'debug' };
      return p;
    });
    await until(async () => (await owned(uid)).length === 3 && (await pods()).length === 4, 10_000, 'released and replaced');
    expect((await ts.store.get('Pod', 'default', victim.metadata!.name)).metadata?.ownerReferences).toEqual([]);

    await ts.store.guaranteedUpdate('ReplicaSet', 'default', 'web-abc', (r) => {
      r.spec!.replicas = 1;
      return r;
    });
    await until(async () => (await owned(uid)).length === 1, 10_000, 'scaled to 1');
    await until(
      async () => {
        const st = (await ts.store.get('ReplicaSet', 'default', 'web-abc')).status;
        return st?.replicas === 1 && st.observedGeneration === 2;
      },
      10_000,
      'status after scale-down',
    );
    await recorder.flush();
    const reasons = (await ts.store.list('Event')).items.map((e) => e.reason);
    expect(reasons.filter((r) => r === 'SuccessfulCreate').length).toBe(4);
    expect(reasons.filter((r) => r === 'SuccessfulDelete').length).toBe(3);
  });
});
