// An etcd3 client for tests plus a unique key prefix, so tests sharing one etcd never see
// each other's objects.
import { randomBytes } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { inject } from 'vitest';
import { Store } from '../../control-plane/storage/store.js';
import { newEtcdClient } from '../../control-plane/storage/etcd-client.js';

export function sharedEndpoints(): string[] {
  return inject('etcdEndpoints').split(',');
}

export function uniquePrefix(): string {
  return `/t-${randomBytes(5).toString('hex')}`;
}

export interface TestStore {
  client: Etcd3;
  store: Store;
  prefix: string;
  close(): Promise<void>;
}

/** A Store under a fresh prefix; close() wipes the prefix and closes the client. */
export function testStore(endpoints: string[] = sharedEndpoints(), prefix = uniquePrefix()): TestStore {
  const client = newEtcdClient(endpoints);
  const store = new Store(client, { prefix });
  return {
    client,
    store,
    prefix,
    async close() {
      await client.delete().prefix(`${prefix}/`).exec().catch(() => undefined);
      client.close();
    },
  };
}
