// Fixture tests in the style of kubernetes' replica_set_test.go: a preloaded cache, a fake
// client that records calls, and the calls each pass is expected to make.
import { describe, expect, it } from 'vitest';
import { errors } from '../../../proto/api/errors.js';
import type { ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import { FakeRecorder } from '../events.js';
import { Expectations } from '../runtime/expectations.js';
import { FakeClient } from '../runtime/fake-client.js';
import { podFixture, rsFixture, T0 } from '../runtime/fixtures.js';
import { STANDARD_INDEXES } from '../runtime/indexes.js';
import { StaticLister } from '../runtime/lister.js';
import { rsControllerRef } from './claim.js';
import { compareForDeletion } from './pods.js';
import { slowStartBatch, syncReplicaSet, type ReplicaSetDeps } from './sync.js';

function fixture(rsList: ReplicaSet[], pods: Pod[], now = T0) {
  const client = new FakeClient([
    ...rsList.map((o) => ({ kind: 'ReplicaSet' as const, object: o })),
    ...pods.map((o) => ({ kind: 'Pod' as const, object: o })),
  ]);
  const recorder = new FakeRecorder();
  const deps: ReplicaSetDeps = {
    rsLister: new StaticLister(rsList, STANDARD_INDEXES),
    podLister: new StaticLister(pods, STANDARD_INDEXES),
    client,
    recorder,
    expectations: new Expectations(() => now),
    now: () => now,
  };
  return { client, recorder, deps };
}

const owned = (rs: ReplicaSet) => ({ labels: { app: rs.metadata!.name }, owner: rsControllerRef(rs) });

describe('slowStartBatch', () => {
  it('runs batches of 1, 2, 4, ... and stops at the first batch with an error', async () => {
    const sizes: number[] = [];
    let inBatch = 0;
    let n = 0;
    const r = await slowStartBatch(20, 1, async () => {
      const i = n++;
      inBatch++;
      await Promise.resolve();
      if (inBatch) sizes.push(inBatch);
      inBatch = 0;
      if (i === 9) throw new Error('boom');
    });
    expect(sizes).toEqual([1, 2, 4, 8]);
    expect(r.attempted).toBe(15);
    expect(r.successes).toBe(14);
    expect((r.error as Error).message).toBe('boom');
  });
});

describe('syncReplicaSet', () => {
  it('creates the missing pods from the template, owned by the ReplicaSet', async () => {
    const rs = rsFixture('web-abc', { replicas: 3 });
    const { client, recorder, deps } = fixture([rs], []);
    await syncReplicaSet('default/web-abc', deps);
    expect(client.summary({ verbs: ['create'] })).toEqual([
      'create Pod web-abc-xxxx0',
      'create Pod web-abc-xxxx1',
      'create Pod web-abc-xxxx2',
    ]);
    const pod = client.actions[0]!.object as Pod;
    expect(pod.metadata?.generateName).toBe('web-abc-');
    expect(pod.metadata?.labels).toEqual({ app: 'web-abc' });
    expect(pod.metadata?.ownerReferences).toEqual([
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'uid-web-abc', controller: true, blockOwnerDeletion: true },
    ]);
    expect(pod.spec?.containers[0]?.image).toBe('busybox:1');
    expect(recorder.events.filter((e) => e.startsWith('Normal SuccessfulCreate'))).toHaveLength(3);
  });

  it('creates in slow-start batches and stops at the first failing batch', async () => {
    const rs = rsFixture('web', { replicas: 10 });
    const { client, deps } = fixture([rs], []);
    let creates = 0;
    client.react((a) => (a.verb === 'create' && a.kind === 'Pod' && ++creates === 4 ? errors.internal('quota') : undefined));
    await expect(syncReplicaSet('default/web', deps)).rejects.toThrow('quota');
    // 1 + 2 + 4 attempts; the batch of 8 never starts.
    expect(client.summary({ verbs: ['create'], kind: 'Pod' })).toHaveLength(7);
    // Only the 6 successful creates are still expected to show up in the cache.
    expect(deps.expectations.pending('default/web')).toEqual({ add: 6, del: 0 });
    const status = client.stored('ReplicaSet', 'default', 'web')!.status!;
    expect(status.conditions.map((c) => `${c.type}=${c.status} ${c.reason}`)).toEqual(['ReplicaFailure=True FailedCreate']);
  });

  it('expectations stop a stale cache from creating twice', async () => {
    const rs = rsFixture('web', { replicas: 2 });
    const { client, deps } = fixture([rs], []);
    await syncReplicaSet('default/web', deps);
    await syncReplicaSet('default/web', deps); // the cache has not seen the 2 pods yet
    expect(client.summary({ verbs: ['create'], kind: 'Pod' })).toHaveLength(2);
    deps.expectations.creationObserved('default/web');
    deps.expectations.creationObserved('default/web');
    (deps.podLister as StaticLister<Pod>).set(podFixture('web-1', owned(rs)));
    (deps.podLister as StaticLister<Pod>).set(podFixture('web-2', owned(rs)));
    await syncReplicaSet('default/web', deps);
    expect(client.summary({ verbs: ['create'], kind: 'Pod' })).toHaveLength(2);
  });

  it('does not count terminating or finished pods, and replaces them', async () => {
    const rs = rsFixture('web', { replicas: 2 });
    const pods = [
      podFixture('web-live', owned(rs)),
      podFixture('web-going', { ...owned(rs), deleting: true }),
      podFixture('web-done', { ...owned(rs), phase: 'Succeeded' }),
      podFixture('web-failed', { ...owned(rs), phase: 'Failed' }),
    ];
    const { client, deps } = fixture([rs], pods);
    await syncReplicaSet('default/web', deps);
    expect(client.summary({ verbs: ['create', 'delete'] })).toEqual(['create Pod web-xxxx0']);
  });

  it('deletes the most deletable pods first (ActivePods ranking)', async () => {
    const rs = rsFixture('web', { replicas: 1 });
    const o = owned(rs);
    const pods = [
      podFixture('old-ready', { ...o, nodeName: 'n1', ready: true, readySince: T0 - 100_000, created: T0 - 200_000 }),
      podFixture('unscheduled', { ...o, phase: 'Pending', created: T0 - 300_000 }),
      podFixture('pending', { ...o, nodeName: 'n1', phase: 'Pending' }),
      podFixture('running-not-ready', { ...o, nodeName: 'n1' }),
      podFixture('new-ready', { ...o, nodeName: 'n1', ready: true, readySince: T0 - 10_000, created: T0 - 100_000 }),
    ];
    const { client, deps } = fixture([rs], pods);
    await syncReplicaSet('default/web', deps);
    expect(client.summary({ verbs: ['delete'] })).toEqual([
      'delete Pod unscheduled',
      'delete Pod pending',
      'delete Pod running-not-ready',
      'delete Pod new-ready',
    ]);
    expect(client.actions.find((a) => a.verb === 'delete')?.options?.preconditions?.uid).toBe('uid-unscheduled');
    expect(deps.expectations.pending('default/web')).toEqual({ add: 0, del: 4 });
    // The terminating update and the final delete of one pod count once.
    deps.expectations.deletionObserved('default/web', 'default/pending');
    deps.expectations.deletionObserved('default/web', 'default/pending');
    expect(deps.expectations.pending('default/web')).toEqual({ add: 0, del: 3 });
  });

  it('ranks more restarts and newer pods first among equals', () => {
    const a = podFixture('a', { nodeName: 'n', ready: true, readySince: T0, restarts: 5, created: T0 - 9000 });
    const b = podFixture('b', { nodeName: 'n', ready: true, readySince: T0, restarts: 0, created: T0 - 1000 });
    const c = podFixture('c', { nodeName: 'n', ready: true, readySince: T0, restarts: 0, created: T0 - 5000 });
    expect([c, b, a].sort(compareForDeletion).map((p) => p.metadata?.name)).toEqual(['a', 'b', 'c']);
  });

  it('adopts matching orphans and releases owned pods that stopped matching', async () => {
    const rs = rsFixture('web', { replicas: 2 });
    const other = rsFixture('other', { labels: { app: 'web' } });
    const pods = [
      podFixture('orphan', { labels: { app: 'web' } }),
      podFixture('mismatch', { labels: { app: 'else' }, owner: rsControllerRef(rs) }),
      podFixture('foreign', { labels: { app: 'web' }, owner: rsControllerRef(other) }),
      podFixture('unrelated', { labels: { app: 'else' } }),
    ];
    const { client, deps } = fixture([rs, other], pods);
    await syncReplicaSet('default/web', deps);
    // Claims (adopt, release) come before creates; their order among themselves is not fixed.
    const calls = client.summary({ verbs: ['patch', 'create', 'delete'] });
    expect(calls.slice(0, 2).sort()).toEqual(['patch Pod mismatch', 'patch Pod orphan']);
    expect(calls.slice(2)).toEqual(['create Pod web-xxxx0']);
    expect(client.stored('Pod', 'default', 'orphan')?.metadata?.ownerReferences).toEqual([rsControllerRef(rs)]);
    expect(client.stored('Pod', 'default', 'mismatch')?.metadata?.ownerReferences).toEqual([]);
    expect(client.stored('Pod', 'default', 'foreign')?.metadata?.ownerReferences).toEqual([rsControllerRef(other)]);
  });

  it('does not adopt when a live read shows the ReplicaSet is being deleted', async () => {
    const rs = rsFixture('web', { replicas: 1 });
    const { client, deps } = fixture([rs], [podFixture('orphan', { labels: { app: 'web' } })]);
    const live = client.stored('ReplicaSet', 'default', 'web')!;
    live.metadata!.deletionTimestamp = '2026-01-01T00:00:00Z';
    await client.update('ReplicaSet', live);
    client.actions.length = 0;
    await syncReplicaSet('default/web', deps);
    expect(client.summary({ verbs: ['patch'] })).toEqual([]);
  });

  it('publishes status: ready, available after minReadySeconds, fully labeled, observedGeneration', async () => {
    const rs = rsFixture('web', { replicas: 3, minReadySeconds: 10, generation: 4 });
    const o = owned(rs);
    const pods = [
      podFixture('a', { ...o, ready: true, readySince: T0 - 60_000 }),
      podFixture('b', { ...o, ready: true, readySince: T0 - 5_000 }),
      podFixture('c', { ...o, ready: true, readySince: T0 - 5_000, labels: { app: 'web', extra: 'x' } }),
    ];
    pods[2]!.metadata!.labels = { app: 'web', extra: 'x' };
    const { client, deps } = fixture([rs], pods);
    const res = await syncReplicaSet('default/web', deps);
    const st = client.stored('ReplicaSet', 'default', 'web')!.status!;
    expect(st).toMatchObject({ replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 1, observedGeneration: 4 });
    // All ready but not all available yet: look again after minReadySeconds.
    expect(res).toEqual({ requeueAfterMs: 10_000 });
    expect(client.summary({ verbs: ['updateStatus'] })).toEqual(['updateStatus ReplicaSet web']);
  });

  it('counts fully labeled pods by the template labels', async () => {
    const rs = rsFixture('web', { replicas: 2 });
    rs.spec!.template!.metadata!.labels = { app: 'web', tier: 'fe' };
    const o = owned(rs);
    const pods = [podFixture('a', { ...o, labels: { app: 'web', tier: 'fe' } }), podFixture('b', o)];
    const { client, deps } = fixture([rs], pods);
    await syncReplicaSet('default/web', deps);
    expect(client.stored('ReplicaSet', 'default', 'web')!.status).toMatchObject({ replicas: 2, fullyLabeledReplicas: 1 });
  });

  it('writes no status when nothing changed', async () => {
    const rs = rsFixture('web', { replicas: 1 });
    const pods = [podFixture('a', owned(rs))];
    const { client, deps } = fixture([rs], pods);
    await syncReplicaSet('default/web', deps);
    const stored = client.stored('ReplicaSet', 'default', 'web')!;
    const again = fixture([stored], pods);
    await syncReplicaSet('default/web', again.deps);
    expect(again.client.actions).toEqual([]);
  });
});
