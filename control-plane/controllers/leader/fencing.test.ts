// Fencing on a real etcd: a leader whose lease etcd has expired while it was cut off (as after
// a pause or a partition) may still believe it leads for up to a TTL; every write of its term
// is refused all the same, while the new leader's land. Without the fence the same write lands.
import type { Etcd3 } from 'etcd3';
import { afterEach, describe, expect, it } from 'vitest';
import { isApiError } from '../../../proto/api/errors.js';
import { KINDS } from '../../../proto/api/kinds.js';
import { newEtcdClient } from '../../storage/etcd-client.js';
import { isNotLeader, type Fence } from '../../storage/fence.js';
import { Store } from '../../storage/store.js';
import { sharedEndpoints, uniquePrefix } from '../../../test/helpers/etcd-client.js';
import { TcpProxy } from '../../../test/helpers/tcp-proxy.js';
import { until } from '../../../test/helpers/wait.js';
import { node } from '../scheduler/fixtures.js';
import { currentLeader, LeaderElector } from './elector.js';

const TTL = 6;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Candidate {
  elector: LeaderElector;
  /** The store this process's controllers write through (a direct connection, unlike the elector's). */
  store: Store;
  fences: Fence[];
}

function candidate(id: string, prefix: string, electionEndpoints: string[]): Candidate {
  const electionClient = newEtcdClient(electionEndpoints);
  const dataClient: Etcd3 = newEtcdClient(sharedEndpoints());
  const fences: Fence[] = [];
  const elector = new LeaderElector({
    client: electionClient, name: 'controller-manager', identity: id, ttlSeconds: TTL, prefix,
    onStartedLeading: (f) => void fences.push(f),
    onStoppedLeading: () => undefined,
  });
  cleanups.push(async () => {
    await elector.stop();
    electionClient.close();
    await dataClient.delete().prefix(`${prefix}/`).exec().catch(() => undefined);
    dataClient.close();
  });
  return { elector, store: new Store(dataClient, { prefix }), fences };
}

describe('fenced writes', () => {
  it('a deposed leader that still believes it leads has every write refused; the new leader writes', async () => {
    const prefix = uniquePrefix();
    const url = new URL(sharedEndpoints()[0]!);
    const proxy = await new TcpProxy(url.hostname, Number(url.port)).start();
    cleanups.push(() => proxy.stop());
    const a = candidate('a', prefix, [proxy.endpoint]);
    a.elector.start();
    await until(() => a.fences.length === 1, 10_000, 'a to lead');
    const b = candidate('b', prefix, sharedEndpoints());
    b.elector.start();
    const aStore = a.store.fenced(a.fences[0]!);
    await aStore.create('Node', node('written-while-leading'));

    // a's elector is cut off from etcd (it can neither renew nor see the key go), and etcd
    // expires its lease: revoking it is what etcd does at the end of the TTL.
    proxy.setRefusing(true);
    const record = await currentLeader(b.store.client, 'controller-manager', prefix);
    expect(record?.holderIdentity).toBe('a');
    await b.store.client.leaseClient.leaseRevoke({ ID: record!.leaseId });
    await until(() => b.fences.length === 1, 10_000, 'b to lead');
    const bStore = b.store.fenced(b.fences[0]!);
    // For up to a TTL a has no way to know: it still believes it leads (that is the hazard).
    const bothBelieved = a.elector.isLeader() && b.elector.isLeader();

    // a's controllers keep writing: single writes (group-committed), a multi-object
    // transaction, an update and a delete of an object a wrote while it led.
    const written = await a.store.get('Node', '', 'written-while-leading');
    written.metadata!.labels = { stale: 'true' };
    const attempts: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) attempts.push(aStore.create('Node', node(`stale-${i}`)));
    const n1 = node('stale-txn-1');
    const n2 = node('stale-txn-2');
    aStore.prepareCreate(KINDS.Node, n1);
    aStore.prepareCreate(KINDS.Node, n2);
    attempts.push(aStore.transact([{ kind: 'Node', object: n1, op: 'create' }, { kind: 'Node', object: n2, op: 'create' }]));
    attempts.push(aStore.update('Node', written));
    attempts.push(aStore.delete('Node', '', 'written-while-leading'));
    const results = await Promise.allSettled(attempts);
    const refused = results.filter((r) => r.status === 'rejected' && isNotLeader(r.reason)).length;
    expect(results.filter((r) => r.status === 'fulfilled')).toEqual([]);
    expect(refused).toBe(attempts.length); // 23 writes, 23 refused as NotLeader
    expect(results.every((r) => r.status === 'rejected' && isApiError(r.reason, 'Unavailable'))).toBe(true);

    // The new leader's writes land, and nothing of a's stale term is in etcd.
    await bStore.create('Node', node('by-b'));
    const names = (await b.store.list('Node')).items.map((n) => n.metadata!.name).sort();
    expect(names).toEqual(['by-b', 'written-while-leading']);
    expect((await b.store.get('Node', '', 'written-while-leading')).metadata!.labels).not.toHaveProperty('stale');
    // The control: without the fence, the same stale process's write would have landed.
    await a.store.create('Node', node('unfenced'));
    expect((await b.store.list('Node')).items.map((n) => n.metadata!.name)).toContain('unfenced');
    // Reported, not asserted: whether a still believed it led depends on timing; the fence does not.
    console.info(`fencing: ${refused} stale writes refused; old leader still believed it led: ${bothBelieved}`);
  });
});
