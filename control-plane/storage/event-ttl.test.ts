// Events expire through an etcd lease (kube-apiserver --event-ttl), against the real etcd.
import { describe, expect, it } from 'vitest';
import { Event, Namespace } from '../../proto/gen/skiff/v1/core.js';
import { sharedEndpoints, uniquePrefix } from '../../test/helpers/etcd-client.js';
import { until } from '../../test/helpers/wait.js';
import { newEtcdClient } from './etcd-client.js';
import { LeaseManager } from './lease-manager.js';
import { Store } from './store.js';

const event = (name: string): Event => Event.fromPartial({ metadata: { name, namespace: 'default' }, reason: 'Test', message: name });

describe('event TTL', () => {
  it('writes events with one shared lease and etcd removes them when it runs out', async () => {
    const client = newEtcdClient(sharedEndpoints());
    const prefix = uniquePrefix();
    // Leases of 1 s TTL + 1 s reuse window: 2 s in all.
    const store = new Store(client, { prefix, eventTtlSeconds: 1, eventLeaseReuseSeconds: 1 });
    try {
      const [a, b] = await Promise.all([store.create('Event', event('a')), store.create('Event', event('b'))]);
      const ns = await store.create('Namespace', Namespace.fromPartial({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'keep' } }));
      const kvs = (await client.getAll().prefix(`${prefix}/`).exec()).kvs;
      const leaseOf = (name: string): string => kvs.find((kv) => kv.key.toString().endsWith(`/${name}`))?.lease ?? '';
      expect(leaseOf('a')).not.toBe('0');
      expect(leaseOf('a')).toBe(leaseOf('b'));
      expect(leaseOf('keep')).toBe('0');
      // An update (aggregation) gets a lease too, so the event lives on from its last write.
      const a2 = structuredClone(a);
      a2.count = 2;
      await store.update('Event', a2);
      await until(async () => (await store.list('Event')).items.length === 0, 15_000, 'events expired');
      expect((await store.get('Namespace', '', 'keep')).metadata?.uid).toBe(ns.metadata?.uid);
      expect(b.metadata?.name).toBe('b');
    } finally {
      await client.delete().prefix(`${prefix}/`).exec();
      client.close();
    }
  });

  it('reuses a lease only while it still covers the whole TTL', async () => {
    let now = 0;
    const granted: number[] = [];
    const m = new LeaseManager((ttl) => {
      granted.push(ttl);
      return Promise.resolve(String(granted.length));
    }, 3600, 60, () => now);
    expect(await Promise.all([m.leaseFor(), m.leaseFor()])).toEqual(['1', '1']);
    now += 60_000;
    expect(await m.leaseFor()).toBe('1');
    now += 1;
    expect(await m.leaseFor()).toBe('2');
    expect(granted).toEqual([3660, 3660]);
  });
});
