// The scheduler controller on a real etcd: binds pending pods with CAS writes, spreads them,
// reports pods that fit nowhere (condition + one event) and places them once a node appears.
import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import { testStore, type TestStore } from '../../../test/helpers/etcd-client.js';
import { until } from '../../../test/helpers/wait.js';
import { SharedInformers } from '../../informers.js';
import { StoreControllerClient } from '../client.js';
import { ClientEventRecorder } from '../events.js';
import { SchedulerController } from './controller.js';
import { node, pod } from './fixtures.js';

let ts: TestStore;
let informers: SharedInformers;
let sched: SchedulerController;

afterEach(async () => {
  await sched?.stop();
  await informers?.stop();
  await ts?.close();
});

function setup(): { recorder: ClientEventRecorder } {
  ts = testStore();
  informers = new SharedInformers(ts.store);
  const recorder = new ClientEventRecorder(new StoreControllerClient(ts.store), { component: 'default-scheduler' });
  sched = new SchedulerController({ store: ts.store, informers, recorder, retryIntervalMs: 60_000 });
  return { recorder };
}

function clean(p: Pod): Pod {
  const c = structuredClone(p);
  c.metadata!.uid = '';
  return c;
}

describe('SchedulerController', () => {
  it('binds pending pods spread over ready nodes, with PodScheduled=True and a Scheduled event', async () => {
    const { recorder } = setup();
    for (const n of ['n1', 'n2', 'n3']) await ts.store.create('Node', node(n));
    await ts.store.create('Node', node('down', { ready: false }));
    for (let i = 0; i < 7; i++) await ts.store.create('Pod', clean(pod(`web-${i}`, { owner: 'web', cpu: '100m' })));
    await sched.start();
    await until(async () => (await ts.store.list('Pod')).items.every((p) => p.spec?.nodeName), 10_000, 'all pods bound');
    const pods = (await ts.store.list('Pod')).items;
    const perNode = new Map<string, number>();
    for (const p of pods) perNode.set(p.spec!.nodeName, (perNode.get(p.spec!.nodeName) ?? 0) + 1);
    expect([...perNode.keys()].sort()).toEqual(['n1', 'n2', 'n3']);
    expect(Math.max(...perNode.values()) - Math.min(...perNode.values())).toBeLessThanOrEqual(1);
    for (const p of pods) {
      expect(p.status?.conditions.find((c) => c.type === 'PodScheduled')?.status).toBe('True');
    }
    await recorder.flush();
    const events = (await ts.store.list('Event')).items;
    expect(events.filter((e) => e.reason === 'Scheduled')).toHaveLength(7);
  });

  it('a bind from a stale cache fails its compare-and-swap and is retried, never written blind', async () => {
    setup();
    await ts.store.create('Node', node('n1'));
    await ts.store.create('Pod', clean(pod('p', { cpu: '100m' })));
    await informers.start(['Pod', 'Node']);
    // Freeze the cache, then change the pod behind its back (another writer got there first).
    await informers.get('Pod').stop();
    await ts.store.guaranteedUpdate('Pod', 'default', 'p', (p) => {
      p.metadata!.labels.touched = 'yes';
      return p;
    });
    expect(await sched.runBatch()).toEqual({ requeueAfterMs: 0 });
    const stored = await ts.store.get('Pod', 'default', 'p');
    expect(stored.spec!.nodeName).toBe('');
    expect(stored.metadata!.labels.touched).toBe('yes');
  });

  it('marks a pod that fits nowhere Unschedulable once, then places it when a node joins', async () => {
    const { recorder } = setup();
    await ts.store.create('Node', node('small', { cpu: '500m' }));
    await ts.store.create('Pod', clean(pod('big', { cpu: '2' })));
    await sched.start();
    const message = '0/1 nodes are available: 1 Insufficient cpu.';
    await until(
      async () => (await ts.store.get('Pod', 'default', 'big')).status?.conditions.some((c) => c.message === message) ?? false,
      10_000,
      'Unschedulable condition',
    );
    const cond = (await ts.store.get('Pod', 'default', 'big')).status!.conditions.find((c) => c.type === 'PodScheduled')!;
    expect(cond).toMatchObject({ status: 'False', reason: 'Unschedulable', message });
    // Unrelated changes re-run the batch; the same failure must not write again or add events.
    await ts.store.create('Pod', clean(pod('other', { nodeName: 'small', phase: 'Running' })));
    await ts.store.create('Node', node('cordoned', { cpu: '8', unschedulable: true }));
    await until(
      async () =>
        (await ts.store.get('Pod', 'default', 'big')).status?.conditions.some((c) => c.message.startsWith('0/2 nodes')) ?? false,
      10_000,
      'message with two nodes',
    );
    await ts.store.create('Node', node('large', { cpu: '4' }));
    await until(async () => (await ts.store.get('Pod', 'default', 'big')).spec?.nodeName === 'large', 10_000, 'bound to large');
    await recorder.flush();
    const failed = (await ts.store.list('Event')).items.filter((e) => e.reason === 'FailedScheduling');
    expect(failed.map((e) => [e.message, e.count, e.type])).toEqual([
      [message, 1, 'Warning'],
      ['0/2 nodes are available: 1 node(s) were unschedulable, 1 Insufficient cpu.', 1, 'Warning'],
    ]);
  });
});
