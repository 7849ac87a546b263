// The garbage collector on a real etcd: background, orphan and foreground deletion of a
// Deployment -> ReplicaSet -> Pod chain and partial owner loss.
import { afterEach, describe, expect, it } from 'vitest';
import type { Kind } from '../../../proto/api/kinds.js';
import type { OwnerReference } from '../../../proto/gen/skiff/v1/meta.js';
import { testStore, type TestStore } from '../../../test/helpers/etcd-client.js';
import { until } from '../../../test/helpers/wait.js';
import { SharedInformers } from '../../informers.js';
import type { StoreWatch } from '../../storage/watch.js';
import { StoreControllerClient } from '../client.js';
import { ManualClock } from '../../../proto/api/clock.js';
import { deploymentFixture, podFixture, rsFixture } from '../runtime/fixtures.js';
import { GarbageCollector } from './collector.js';

let ts: TestStore;
let informers: SharedInformers;
let gc: GarbageCollector;
let client: StoreControllerClient;
const watches: StoreWatch<Kind>[] = [];

afterEach(async () => {
  for (const w of watches.splice(0)) await w.close();
  await gc?.stop();
  await informers?.stop();
  await ts?.close();
});

async function start(clock = new ManualClock(Date.now())): Promise<void> {
  ts = testStore();
  informers = new SharedInformers(ts.store);
  client = new StoreControllerClient(ts.store, () => clock.now());
  gc = new GarbageCollector({ store: ts.store, client, informers, clock });
  await gc.start();
}

const refTo = (o: { apiVersion: string; kind: string; metadata?: { name: string; uid: string } }): OwnerReference => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata!.name,
  uid: o.metadata!.uid,
  controller: true,
  blockOwnerDeletion: true,
});

/** Deployment web -> ReplicaSet web-rs -> pods web-rs-0, web-rs-1 (unbound: deleted at once). */
/** Deployment -> ReplicaSet -> two pods; the revision of the last pod written. */
async function chain(): Promise<number> {
  const d = await client.create('Deployment', deploymentFixture('web'));
  const rs = await client.create('ReplicaSet', rsFixture('web-rs', { owner: refTo(d) }));
  let last = 0;
  for (const i of [0, 1]) last = Number((await client.create('Pod', podFixture(`web-rs-${i}`, { owner: refTo(rs) }))).metadata?.resourceVersion);
  return last;
}

async function names(kind: Kind): Promise<string[]> {
  return (await ts.store.list(kind)).items.map((o) => o.metadata!.name).sort();
}

/** Records "Kind name" of every deletion, in revision order across kinds. */
async function recordDeletions(): Promise<{ revision: number; what: string }[]> {
  const out: { revision: number; what: string }[] = [];
  const rev = await ts.store.currentRevision();
  for (const kind of ['Deployment', 'ReplicaSet', 'Pod'] as const) {
    const w = ts.store.watch(kind, {
      afterRevision: rev,
      onEvent: (e) => e.type === 'DELETED' && out.push({ revision: e.revision, what: `${kind} ${e.object.metadata!.name}` }),
      onError: () => undefined,
    });
    watches.push(w as unknown as StoreWatch<Kind>);
    await w.ready;
  }
  return out;
}

describe('GarbageCollector', () => {
  it('background: deleting the Deployment removes its ReplicaSet, then its pods', async () => {
    await start();
    await chain();
    await ts.store.delete('Deployment', 'default', 'web');
    await until(async () => (await names('Pod')).length === 0 && (await names('ReplicaSet')).length === 0, 10_000, 'chain collected');
  });

  it('keeps dependents whose owners exist, even right after they were created', async () => {
    await start();
    const last = await chain();
    // Give the collector every chance to act wrongly, then check nothing went. (Not etcd's
    // current revision: other tests write to the same etcd, and this informer only advances
    // on pod events.)
    await informers.get('Pod').waitForRevision(last);
    await until(() => gc.controller.queue.length === 0, 10_000, 'queue drained');
    expect(await names('Pod')).toEqual(['web-rs-0', 'web-rs-1']);
    expect(await names('ReplicaSet')).toEqual(['web-rs']);
  });

  it('drops only the references to owners that are gone', async () => {
    await start();
    const a = await client.create('ReplicaSet', rsFixture('a'));
    const b = await client.create('ReplicaSet', rsFixture('b'));
    const p = podFixture('shared', { owner: refTo(a) });
    p.metadata!.ownerReferences.push({ ...refTo(b), controller: false });
    await client.create('Pod', p);
    await ts.store.delete('ReplicaSet', 'default', 'b');
    await until(async () => (await ts.store.get('Pod', 'default', 'shared')).metadata!.ownerReferences.length === 1, 10_000, 'ref dropped');
    expect((await ts.store.get('Pod', 'default', 'shared')).metadata!.ownerReferences[0]!.name).toBe('a');
  });

  it('orphan: the ReplicaSet stays without its owner reference, the Deployment goes', async () => {
    await start();
    await chain();
    await client.delete('Deployment', 'default', 'web', { propagationPolicy: 'Orphan' });
    await until(async () => (await names('Deployment')).length === 0, 10_000, 'deployment removed');
    const rs = await ts.store.get('ReplicaSet', 'default', 'web-rs');
    expect(rs.metadata!.ownerReferences).toEqual([]);
    expect(await names('Pod')).toEqual(['web-rs-0', 'web-rs-1']);
  });

  it('foreground: pods go first, then the ReplicaSet, then the Deployment', async () => {
    await start();
    await chain();
    const deletions = await recordDeletions();
    await client.delete('Deployment', 'default', 'web', { propagationPolicy: 'Foreground' });
    await until(() => deletions.length === 4, 10_000, 'all four deleted');
    const order = deletions.sort((x, y) => x.revision - y.revision).map((d) => d.what);
    expect(order.slice(2)).toEqual(['ReplicaSet web-rs', 'Deployment web']);
    expect(order.slice(0, 2).sort()).toEqual(['Pod web-rs-0', 'Pod web-rs-1']);
  });
});
