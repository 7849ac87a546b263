// The controller manager end to end on a real etcd: two managers (two "processes", each with
// its own etcd client and informers) share one cluster prefix. The test plays the node agents:
// it keeps Node objects and their Leases fresh, marks bound pods Running/Ready and removes
// pods being deleted, as an agent would.
import type { Etcd3 } from 'etcd3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../../proto/gen/skiff/v1/apps.js';
import { Lease } from '../../proto/gen/skiff/v1/coordination.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { sharedEndpoints, uniquePrefix } from '../../test/helpers/etcd-client.js';
import { TcpProxy } from '../../test/helpers/tcp-proxy.js';
import { until } from '../../test/helpers/wait.js';
import { SharedInformers } from '../informers.js';
import { newEtcdClient } from '../storage/etcd-client.js';
import { Store } from '../storage/store.js';
import type { StoreWatch } from '../storage/watch.js';
import { StoreControllerClient } from './client.js';
import { currentLeader } from './leader/elector.js';
import { ELECTION_NAME, startControllerManager, type ControllerManager } from './manager.js';
import { NODE_LEASE_NAMESPACE } from './nodelifecycle/decide.js';
import { deploymentFixture } from './runtime/fixtures.js';
import { node } from './scheduler/fixtures.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Proc {
  id: string;
  client: Etcd3;
  informers: SharedInformers;
  manager: ControllerManager;
}

async function controlPlane(id: string, prefix: string, endpoints = sharedEndpoints(), clusterCIDR = ''): Promise<Proc> {
  const client = newEtcdClient(endpoints);
  const store = new Store(client, { prefix });
  const informers = new SharedInformers(store);
  const manager = await startControllerManager({
    store,
    informers,
    etcd: client,
    identity: id,
    leaseTtlSeconds: 2,
    nodeGracePeriodSeconds: 3,
    podEvictionDelaySeconds: 2,
    clusterCIDR,
    nodeCIDRMaskSize: 24,
    log: () => undefined,
  });
  const p = { id, client, informers, manager };
  cleanups.push(async () => {
    await manager.stop();
    await informers.stop();
    client.close();
  });
  return p;
}

/** The node agents of the simulated cluster, run from the test. */
class FakeAgents {
  readonly alive = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(private readonly store: Store) {}

  async addNode(name: string): Promise<void> {
    await this.store.create('Node', node(name, { cpu: '4', memory: '8Gi', pods: '20' }));
    await this.store.create(
      'Lease',
      Lease.fromPartial({
        metadata: { name, namespace: NODE_LEASE_NAMESPACE },
        spec: { holderIdentity: name, leaseDurationSeconds: 3, renewTime: new Date().toISOString() },
      }),
    );
    this.alive.add(name);
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      this.step()
        .catch(() => undefined)
        .finally(() => (this.busy = false));
    }, 100);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async step(): Promise<void> {
    const now = new Date().toISOString();
    for (const name of this.alive) {
      await this.store.guaranteedUpdate('Lease', NODE_LEASE_NAMESPACE, name, (l) => {
        l.spec!.renewTime = now;
        return l;
      });
      await this.store.guaranteedUpdate('Node', '', name, (n) => {
        const ready = n.status!.conditions.find((c) => c.type === 'Ready')!;
        if (ready.status === 'True') return undefined;
        Object.assign(ready, { status: 'True', reason: 'AgentReady', message: '', lastTransitionTime: now });
        return n;
      });
    }
    for (const p of (await this.store.list('Pod')).items) {
      const m = p.metadata!;
      if (!this.alive.has(p.spec?.nodeName ?? '')) continue;
      if (m.deletionTimestamp) {
        await this.store.delete('Pod', m.namespace, m.name, { uid: m.uid }).catch(() => undefined);
      } else if (p.status?.phase !== 'Running') {
        p.status!.phase = 'Running';
        p.status!.startTime = now;
        p.status!.conditions.push({ type: 'Ready', status: 'True', reason: '', message: '', lastTransitionTime: now, lastUpdateTime: '', lastProbeTime: '', lastHeartbeatTime: '' });
        await this.store.update('Pod', p).catch(() => undefined);
      }
    }
  }
}

/** Counts live (not terminating) pods per ReplicaSet at every pod watch event. */
class PodCensus {
  private readonly pods = new Map<string, Pod>();
  maxTotal = 0;
  readonly maxPerOwner = new Map<string, number>();
  watch: StoreWatch<'Pod'> | undefined;

  async start(store: Store): Promise<void> {
    this.watch = store.watch('Pod', {
      afterRevision: await store.currentRevision(),
      onEvent: (e) => {
        const key = `${e.object.metadata!.namespace}/${e.object.metadata!.name}`;
        if (e.type === 'DELETED') this.pods.delete(key);
        else this.pods.set(key, e.object);
        const live = [...this.pods.values()].filter((p) => !p.metadata!.deletionTimestamp);
        this.maxTotal = Math.max(this.maxTotal, live.length);
        const per = new Map<string, number>();
        for (const p of live) {
          const owner = p.metadata!.ownerReferences.find((r) => r.controller)?.name ?? '';
          per.set(owner, (per.get(owner) ?? 0) + 1);
        }
        for (const [o, n] of per) this.maxPerOwner.set(o, Math.max(this.maxPerOwner.get(o) ?? 0, n));
      },
      onError: () => undefined,
    });
    await this.watch.ready;
  }

  live(): Pod[] {
    return [...this.pods.values()].filter((p) => !p.metadata!.deletionTimestamp);
  }
}

function spread(pods: Pod[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of pods) m.set(p.spec?.nodeName ?? '', (m.get(p.spec?.nodeName ?? '') ?? 0) + 1);
  return m;
}

describe('controller manager', () => {
  it('schedules and spreads a Deployment, replaces a dead node\'s pods, and survives a leader change mid-rollout', async () => {
    const prefix = uniquePrefix();
    const testClient = newEtcdClient(sharedEndpoints());
    const store = new Store(testClient, { prefix });
    cleanups.push(async () => {
      await testClient.delete().prefix(`${prefix}/`).exec().catch(() => undefined);
      testClient.close();
    });
    const agents = new FakeAgents(store);
    cleanups.push(() => agents.stop());
    for (const n of ['n1', 'n2', 'n3']) await agents.addNode(n);
    agents.start();
    const census = new PodCensus();
    await census.start(store);
    cleanups.push(() => census.watch?.close());

    const a = await controlPlane('cp-a', prefix);
    const b = await controlPlane('cp-b', prefix);
    let bothLed = false;
    const sampler = setInterval(() => (bothLed ||= a.manager.isLeader() && b.manager.isLeader()), 10);
    cleanups.push(() => clearInterval(sampler));
    await until(() => a.manager.isLeader() !== b.manager.isLeader(), 10_000, 'one leader');
    const first = a.manager.isLeader() ? a.id : b.id;
    await until(() => a.manager.leader() === first && b.manager.leader() === first, 10_000, 'both to name the leader');

    const client = new StoreControllerClient(store);
    await client.create('Deployment', deploymentFixture('web', { replicas: 10 }));
    const readyOn = (nodes: string[]) => () =>
      census.live().filter((p) => nodes.includes(p.spec?.nodeName ?? '') && p.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True'));
    await until(() => readyOn(['n1', 'n2', 'n3'])().length === 10, 30_000, '10 ready pods');
    expect(bothLed).toBe(false);
    // One template, one ReplicaSet (a second one here means the Deployment controller made a
    // new ReplicaSet without a template change).
    const rsList = (await store.list('ReplicaSet')).items.map((r) => r.metadata!.name);
    const collisionCount = (await store.get('Deployment', 'default', 'web')).status?.collisionCount;
    expect({ rsList, collisionCount }).toEqual({ rsList: [rsList[0]], collisionCount: undefined });
    const counts = [...spread(census.live()).values()];
    expect(counts.sort()).toEqual([3, 3, 4]);

    // n3's agent dies: its pods must come back on n1 and n2.
    agents.alive.delete('n3');
    await until(
      () => readyOn(['n1', 'n2'])().length === 10 && census.live().every((p) => p.spec?.nodeName !== 'n3'),
      30_000,
      'pods replaced on the surviving nodes',
    );
    expect(census.live()).toHaveLength(10);

    // Roll out a new template and stop the leader while the rollout is under way.
    const leader = a.manager.isLeader() ? a : b;
    const follower = leader === a ? b : a;
    await client.patch('Deployment', 'default', 'web', (d: Deployment) => {
      d.spec!.template!.spec!.containers[0]!.image = 'busybox:2';
      return d;
    });
    const rsNames = async () => (await store.list('ReplicaSet')).items.map((r) => r.metadata!.name);
    await until(async () => (await rsNames()).length === 2, 10_000, 'a second ReplicaSet');
    await until(
      () => census.live().some((p) => p.spec?.containers[0]?.image === 'busybox:2'),
      10_000,
      'the first new pod',
    );
    await leader.manager.stop();
    await until(() => follower.manager.isLeader(), 10_000, 'the follower to lead');
    expect((await currentLeader(testClient, ELECTION_NAME, prefix))?.holderIdentity).toBe(follower.id);
    expect(follower.manager.leader()).toBe(follower.id);

    const done = (): boolean => {
      const live = census.live();
      return (
        live.length === 10 &&
        live.every((p) => p.spec?.containers[0]?.image === 'busybox:2' && p.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True'))
      );
    };
    await until(done, 60_000, 'the rollout to finish under the new leader');
    // maxSurge 25% of 10 rounds up to 3: never more than 13 live pods, never more than 10 per ReplicaSet.
    expect(census.maxTotal).toBeLessThanOrEqual(13);
    for (const [, n] of census.maxPerOwner) expect(n).toBeLessThanOrEqual(10);
    expect(bothLed).toBe(false);
    const dep = await store.get('Deployment', 'default', 'web');
    await until(
      async () => {
        const d = await store.get('Deployment', 'default', 'web');
        return d.status?.updatedReplicas === 10 && d.status.availableReplicas === 10;
      },
      30_000,
      `deployment status to settle (${JSON.stringify(dep.status)})`,
    );
  });

  it('a leader cut off from etcd stops its controllers; the other takes over and runs them', async () => {
    const prefix = uniquePrefix();
    const url = new URL(sharedEndpoints()[0]!);
    const proxy = await new TcpProxy(url.hostname, Number(url.port)).start();
    cleanups.push(() => proxy.stop());
    const a = await controlPlane('cp-a', prefix, [proxy.endpoint]);
    // Heal before a's informers are stopped: stopping a watch needs etcd (storage's concern).
    cleanups.push(() => proxy.setRefusing(false));
    await until(() => a.manager.isLeader(), 10_000, 'a to lead');
    const b = await controlPlane('cp-b', prefix);
    const testClient = newEtcdClient(sharedEndpoints());
    const store = new Store(testClient, { prefix });
    cleanups.push(async () => {
      await testClient.delete().prefix(`${prefix}/`).exec().catch(() => undefined);
      testClient.close();
    });

    proxy.setRefusing(true);
    await until(() => !a.manager.isLeader(), 5_000, 'a to step down');
    await until(() => b.manager.isLeader(), 10_000, 'b to lead');
    // b's controllers run: a pending pod on a ready node gets scheduled.
    await store.create('Node', node('n1'));
    const client = new StoreControllerClient(store);
    await client.create('Deployment', deploymentFixture('web', { replicas: 2 }));
    await until(
      async () => (await store.list('Pod')).items.filter((p) => p.spec?.nodeName === 'n1').length === 2,
      20_000,
      'pods created and scheduled by b',
    );
    expect(a.manager.isLeader()).toBe(false);
    // Stopping the cut-off process must not hang on etcd.
    await a.manager.stop();
  });

  it('runs node IPAM when given a cluster CIDR: distinct ranges, also after the leader changes', async () => {
    const prefix = uniquePrefix();
    const testClient = newEtcdClient(sharedEndpoints());
    const store = new Store(testClient, { prefix });
    cleanups.push(async () => {
      await testClient.delete().prefix(`${prefix}/`).exec().catch(() => undefined);
      testClient.close();
    });
    const a = await controlPlane('cp-a', prefix, sharedEndpoints(), '10.249.0.0/16');
    const b = await controlPlane('cp-b', prefix, sharedEndpoints(), '10.249.0.0/16');
    await until(() => a.manager.isLeader() !== b.manager.isLeader(), 10_000, 'one leader');
    const cidrs = async (): Promise<string[]> => (await store.list('Node')).items.map((n) => n.spec?.podCIDR ?? '').filter(Boolean);
    for (const n of ['n1', 'n2']) await store.create('Node', node(n));
    await until(async () => (await cidrs()).length === 2, 10_000, 'ranges for n1 and n2');

    const leader = a.manager.isLeader() ? a : b;
    const follower = leader === a ? b : a;
    await leader.manager.stop();
    await until(() => follower.manager.isLeader(), 10_000, 'the other to lead');
    await store.create('Node', node('n3'));
    await until(async () => (await cidrs()).length === 3, 10_000, 'a range for n3 from the new leader');
    const got = await cidrs();
    expect(new Set(got).size).toBe(3);
    for (const c of got) expect(c).toMatch(/^10\.249\.\d+\.0\/24$/);
  });
});
