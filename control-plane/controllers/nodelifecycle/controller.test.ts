// Node lifecycle on a real etcd with a hand-driven clock: a node whose lease stops being renewed
// is marked Unknown and tainted after the grace period, its pods turn NotReady at once, are
// deleted gracefully after the eviction delay (tolerationSeconds respected) and forced once
// their grace period is over, and a renewed lease lifts the taints; when every node goes
// silent at once (the control plane is cut off), nothing is evicted.
import { afterEach, describe, expect, it } from 'vitest';
import { Lease } from '../../../proto/gen/skiff/v1/coordination.js';
import { testStore, type TestStore } from '../../../test/helpers/etcd-client.js';
import { until } from '../../../test/helpers/wait.js';
import { SharedInformers } from '../../informers.js';
import { StoreControllerClient } from '../client.js';
import { ClientEventRecorder } from '../events.js';
import { ManualClock } from '../../../proto/api/clock.js';
import { node, pod } from '../scheduler/fixtures.js';
import { NodeLifecycleController, ORPHAN_QUARANTINE_MS } from './controller.js';
import { NODE_LEASE_NAMESPACE, UNREACHABLE_TAINT_KEY } from './decide.js';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';

let ts: TestStore;
let informers: SharedInformers;
let ctl: NodeLifecycleController;

afterEach(async () => {
  await ctl?.stop();
  await informers?.stop();
  await ts?.close();
});

function lease(name: string, at: number): Lease {
  return Lease.fromPartial({
    metadata: { name, namespace: NODE_LEASE_NAMESPACE },
    spec: { holderIdentity: name, leaseDurationSeconds: 15, renewTime: new Date(at).toISOString() },
  });
}

async function renew(name: string, at: number): Promise<void> {
  const l = await ts.store.get('Lease', NODE_LEASE_NAMESPACE, name);
  l.spec!.renewTime = new Date(at).toISOString();
  const written = await ts.store.update('Lease', l);
  await informers.get('Lease').waitForRevision(Number(written.metadata!.resourceVersion));
}

describe('NodeLifecycleController', () => {
  it('marks a silent node unreachable, evicts its pods after the delay, and untaints it when it is back', async () => {
    ts = testStore();
    informers = new SharedInformers(ts.store);
    const clock = new ManualClock();
    const client = new StoreControllerClient(ts.store, () => clock.now());
    const recorder = new ClientEventRecorder(client, { component: 'node-lifecycle-controller', now: () => clock.now() });
    ctl = new NodeLifecycleController({ store: ts.store, client, informers, recorder, clock, gracePeriodSeconds: 15, podEvictionDelaySeconds: 20 });

    for (const n of ['a', 'b']) {
      await ts.store.create('Node', node(n));
      await ts.store.create('Lease', lease(n, clock.now()));
    }
    const strip = <T extends { metadata?: { uid: string } }>(o: T): T => ((o.metadata!.uid = ''), o);
    await ts.store.create('Pod', strip(pod('plain', { nodeName: 'a', phase: 'Running' })));
    await ts.store.create(
      'Pod',
      strip(
        pod('patient', {
          nodeName: 'a',
          phase: 'Running',
          tolerations: [{ key: UNREACHABLE_TAINT_KEY, operator: 'Exists', value: '', effect: 'NoExecute', tolerationSeconds: 60 }],
        }),
      ),
    );
    await ts.store.create('Pod', strip(pod('elsewhere', { nodeName: 'b', phase: 'Running' })));
    await ctl.start();
    await until(() => clock.pendingTimers >= 3, 10_000, 'a recheck timer per node and the zone pass');

    clock.advance(10_000);
    await renew('b', clock.now());
    clock.advance(5_000); // a: 15 s silent; b: renewed 5 s ago

    const nodeA = async () => ts.store.get('Node', '', 'a');
    await until(async () => (await nodeA()).spec!.taints.length === 2, 10_000, 'node a tainted');
    const a = await nodeA();
    expect(a.spec!.taints.map((t) => `${t.key}:${t.effect}`).sort()).toEqual([`${UNREACHABLE_TAINT_KEY}:NoExecute`, `${UNREACHABLE_TAINT_KEY}:NoSchedule`]);
    expect(a.status!.conditions.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Node agent stopped posting status',
    });
    expect((await ts.store.get('Node', '', 'b')).spec!.taints).toEqual([]);
    const podNames = async () => (await ts.store.list('Pod')).items.map((p) => p.metadata!.name).sort();
    expect(await podNames()).toEqual(['elsewhere', 'patient', 'plain']);
    // MarkPodsNotReady: at once, so Services and Deployment availability stop counting them.
    const readyOf = (p: Pod): string | undefined => p.status?.conditions.find((c) => c.type === 'Ready')?.status;
    const getPod = (n: string): Promise<Pod> => ts.store.get('Pod', 'default', n);
    await until(async () => readyOf(await getPod('plain')) === 'False' && readyOf(await getPod('patient')) === 'False', 10_000, 'pods of a marked NotReady');
    expect(readyOf(await getPod('elsewhere'))).not.toBe('False');
    const terminating = async (n: string): Promise<boolean> => !!(await getPod(n).catch(() => undefined))?.metadata?.deletionTimestamp;

    // b's agent keeps renewing every 5 s while time moves on.
    const advance = async (ms: number): Promise<void> => {
      for (let left = ms; left > 0; left -= 5000) {
        clock.advance(Math.min(5000, left));
        await renew('b', clock.now());
      }
    };
    await advance(19_000);
    // Not yet: still one second to go. Let any reconcile triggered so far finish first.
    await new Promise((r) => setTimeout(r, 200));
    expect(await podNames()).toEqual(['elsewhere', 'patient', 'plain']);
    await advance(1_000);
    // Graceful: the pod gets its deletionTimestamp (its ReplicaSet replaces it now) ...
    await until(() => terminating('plain'), 10_000, 'plain evicted');
    expect(await terminating('patient')).toBe(false);

    await advance(40_000); // 60 s after the taint: the pod's own tolerationSeconds ran out
    await until(() => terminating('patient'), 10_000, 'patient evicted');
    // ... and as nobody on the unreachable node finishes it, it is forced after its grace period (30 s).
    await until(async () => !(await podNames()).includes('plain'), 10_000, 'plain force-deleted');
    expect(await podNames()).toEqual(['elsewhere', 'patient']);
    // The Evicted event is recorded right after the delete, in the background: wait for it.
    const events = async (): Promise<string[]> => {
      await recorder.flush();
      return (await ts.store.list('Event')).items.map((e) => `${e.type} ${e.reason} ${e.involvedObject?.name ?? ''}`).sort();
    };
    await until(async () => (await events()).length >= 3, 10_000, 'eviction events');
    expect(await events()).toEqual(['Normal NodeNotReady a', 'Warning Evicted patient', 'Warning Evicted plain']);

    // The agent comes back: its renewed lease lifts the taints (the agent sets Ready itself and
    // finishes the terminating pod).
    await renew('a', clock.now());
    await until(async () => (await nodeA()).spec!.taints.length === 0, 10_000, 'taint removed');
    await ts.store.delete('Pod', 'default', 'patient');
    expect(await podNames()).toEqual(['elsewhere']);

    // A node object deleted by an operator takes its pods with it (they can never run there),
    // after the pod GC's 40 s quarantine.
    await ts.store.delete('Node', '', 'b');
    const deletedAt = clock.now();
    await new Promise((r) => setTimeout(r, 300));
    expect(await podNames()).toEqual(['elsewhere']);
    // Only this test moves the clock: the pods can go no earlier than the quarantine after.
    await until(async () => {
      clock.advance(5000);
      return (await podNames()).length === 0;
    }, 10_000, 'pods of the deleted node removed');
    expect(clock.now() - deletedAt).toBeGreaterThanOrEqual(ORPHAN_QUARANTINE_MS);
  });

  it('every node silent at once (a control-plane partition): marks them, evicts nothing', async () => {
    ts = testStore();
    informers = new SharedInformers(ts.store);
    const clock = new ManualClock();
    const client = new StoreControllerClient(ts.store, () => clock.now());
    const recorder = new ClientEventRecorder(client, { component: 'node-lifecycle-controller', now: () => clock.now() });
    ctl = new NodeLifecycleController({ store: ts.store, client, informers, recorder, clock, gracePeriodSeconds: 15, podEvictionDelaySeconds: 20 });
    for (const n of ['a', 'b', 'c']) {
      await ts.store.create('Node', node(n));
      await ts.store.create('Lease', lease(n, clock.now()));
      const p = pod(`p-${n}`, { nodeName: n, phase: 'Running' });
      p.metadata!.uid = '';
      await ts.store.create('Pod', p);
    }
    await ctl.start();
    await until(() => clock.pendingTimers >= 4, 10_000, 'timers');
    clock.advance(15_000);
    const unknown = async (): Promise<number> =>
      (await ts.store.list('Node')).items.filter((n) => n.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'Unknown')).length;
    await until(async () => (await unknown()) === 3, 10_000, 'all three Unknown');
    await until(() => ctl.zones().get('') === 'FullDisruption', 10_000, 'full disruption');
    for (let i = 0; i < 12; i++) {
      clock.advance(5000);
      await new Promise((r) => setTimeout(r, 30));
    }
    const nodes = (await ts.store.list('Node')).items;
    expect(nodes.flatMap((n) => n.spec!.taints.filter((t) => t.effect === 'NoExecute'))).toEqual([]);
    expect((await ts.store.list('Pod')).items.filter((p) => p.metadata!.deletionTimestamp)).toEqual([]);
  });
});
