// Fixture tests of syncDeployment: objects preloaded in a fake client, one pass at a time, the
// expected calls asserted (kubernetes deployment_controller_test.go style).
import { describe, expect, it } from 'vitest';
import type { Deployment, ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import { deploymentFixture, iso, podFixture, T0 } from '../runtime/fixtures.js';
import { rsControllerRef } from '../replicaset/claim.js';
import { getCondition } from './progress.js';
import { DeploymentFixture, rsFor } from './testing.js';
import { syncDeployment } from './sync.js';
import { StaticLister } from '../runtime/lister.js';
import { STANDARD_INDEXES } from '../runtime/indexes.js';
import { computeHash, POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION, ROLLBACK_FAILED_ANNOTATION } from './util.js';

const rev = (o: { metadata?: { annotations: Record<string, string> } }): string | undefined => o.metadata?.annotations[REVISION_ANNOTATION];
const hashOf = (d: Deployment): string => computeHash(d.spec!.template);

function completeStatus(n: number, generation = 1) {
  return {
    observedGeneration: generation,
    replicas: n,
    updatedReplicas: n,
    readyReplicas: n,
    availableReplicas: n,
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', lastUpdateTime: iso(T0), lastTransitionTime: iso(T0) },
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', lastUpdateTime: iso(T0), lastTransitionTime: iso(T0) },
    ],
  };
}

describe('syncDeployment', () => {
  it('creates the first ReplicaSet, named by the template hash, at revision 1', async () => {
    const d = deploymentFixture('web', { replicas: 10, annotations: { 'kubernetes.io/change-cause': 'first' } });
    const f = new DeploymentFixture(d);
    await f.sync();
    const name = `web-${hashOf(d)}`;
    // The revision annotation is a metadata patch; status is written separately.
    expect(f.writes()).toEqual([`create ReplicaSet ${name}`, 'patch Deployment web']);
    const rs = f.rs(name);
    expect(rs.spec?.replicas).toBe(10);
    expect(rs.metadata?.labels[POD_TEMPLATE_HASH_LABEL]).toBe(hashOf(d));
    expect(rs.spec?.selector?.matchLabels).toEqual({ app: 'web', [POD_TEMPLATE_HASH_LABEL]: hashOf(d) });
    expect(rs.spec?.template?.metadata?.labels).toEqual({ app: 'web', [POD_TEMPLATE_HASH_LABEL]: hashOf(d) });
    expect(rs.metadata?.ownerReferences).toEqual([
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'uid-web', controller: true, blockOwnerDeletion: true },
    ]);
    expect(rev(rs)).toBe('1');
    expect(rs.metadata?.annotations['kubernetes.io/change-cause']).toBe('first');
    const dep = f.deployment();
    expect(rev(dep)).toBe('1');
    expect(getCondition(dep.status, 'Progressing')?.reason).toBe('NewReplicaSetCreated');
    expect(f.recorder.events).toEqual([`Normal ScalingReplicaSet Scaled up replica set ${name} to 10`]);
  });

  it('a stale cache that has not seen its own ReplicaSet yet is not a hash collision', async () => {
    const d = deploymentFixture('web', { replicas: 3 });
    const f = new DeploymentFixture(d);
    await f.sync();
    const name = `web-${hashOf(d)}`;
    // Next pass with a ReplicaSet cache that lags behind the store: create gets AlreadyExists.
    await syncDeployment('default/web', {
      deploymentLister: new StaticLister(f.client.storedAll('Deployment'), STANDARD_INDEXES),
      rsLister: new StaticLister<ReplicaSet>([], STANDARD_INDEXES),
      podLister: new StaticLister<Pod>([], STANDARD_INDEXES),
      client: f.client,
      recorder: f.recorder,
      now: () => f.now,
    });
    expect(f.deployment().status?.collisionCount ?? 0).toBe(0);
    expect(f.replicaSets().map((r) => r.metadata?.name)).toEqual([name]);
  });

  it('a template change makes a new ReplicaSet at revision 2 that surges', async () => {
    const d = deploymentFixture('web', { replicas: 10, image: 'busybox:2', status: completeStatus(10) });
    d.metadata!.annotations[REVISION_ANNOTATION] = '1';
    const old = rsFor(d, { image: 'busybox:1', replicas: 10, available: 10, revision: 1 });
    const f = new DeploymentFixture(d, [old]);
    await f.sync();
    const name = `web-${hashOf(d)}`;
    // The same pass goes on: the new one cannot surge further, so the old one gives up 2
    // (maxScaledDown = 13 total - 8 min available - 3 new unavailable).
    expect(f.writes()).toEqual([`create ReplicaSet ${name}`, 'patch Deployment web', `update ReplicaSet ${old.metadata!.name}`]);
    expect(f.rs(name).spec?.replicas).toBe(3);
    expect(f.rs(old.metadata!.name).spec?.replicas).toBe(8);
    expect(rev(f.rs(name))).toBe('2');
    expect(rev(f.deployment())).toBe('2');
  });

  it('scaling never makes a new revision', async () => {
    const d = deploymentFixture('web', { replicas: 15, status: completeStatus(10) });
    d.metadata!.annotations[REVISION_ANNOTATION] = '1';
    const cur = rsFor(d, { image: 'busybox:1', replicas: 10, available: 10, revision: 1, desired: 10 });
    const f = new DeploymentFixture(d, [cur]);
    await f.sync();
    expect(f.writes()).toEqual([`update ReplicaSet ${cur.metadata!.name}`]);
    expect(f.rs(cur.metadata!.name).spec?.replicas).toBe(15);
    expect(f.rs(cur.metadata!.name).metadata?.annotations['deployment.kubernetes.io/desired-replicas']).toBe('15');
    expect(rev(f.rs(cur.metadata!.name))).toBe('1');
    expect(rev(f.deployment())).toBe('1');
    expect(f.recorder.events).toEqual([`Normal ScalingReplicaSet Scaled up replica set ${cur.metadata!.name} to 15`]);
  });

  it('rolling back to an old template reuses its ReplicaSet with revision max+1', async () => {
    const d = deploymentFixture('web', { replicas: 4, image: 'busybox:1', status: completeStatus(4) });
    d.metadata!.annotations[REVISION_ANNOTATION] = '2';
    const v1 = rsFor(d, { image: 'busybox:1', replicas: 0, revision: 1, created: T0 });
    const v2 = rsFor(d, { image: 'busybox:2', replicas: 4, available: 4, revision: 2, created: T0 + 1000 });
    const f = new DeploymentFixture(d, [v1, v2]);
    await f.sync();
    expect(f.client.summary({ verbs: ['create'] })).toEqual([]);
    expect(rev(f.rs(v1.metadata!.name))).toBe('3');
    expect(f.rs(v1.metadata!.name).spec?.replicas).toBe(1); // surge 25% of 4
    await f.sync();
    expect(rev(f.deployment())).toBe('3');
    expect(rev(f.rs(v2.metadata!.name))).toBe('2');
  });

  it('restart: a changed template annotation is a new revision', async () => {
    const d = deploymentFixture('web', { replicas: 2, templateAnnotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T13:00:00Z' }, status: completeStatus(2) });
    d.metadata!.annotations[REVISION_ANNOTATION] = '1';
    const cur = rsFor(deploymentFixture('web', { replicas: 2 }), { image: 'busybox:1', replicas: 2, available: 2, revision: 1 });
    const f = new DeploymentFixture(d, [cur]);
    await f.sync();
    const name = `web-${hashOf(d)}`;
    expect(name).not.toBe(cur.metadata!.name);
    expect(f.client.summary({ verbs: ['create'] })).toEqual([`create ReplicaSet ${name}`]);
    expect(rev(f.rs(name))).toBe('2');
    expect(f.rs(name).spec?.template?.metadata?.annotations).toEqual({ 'kubectl.kubernetes.io/restartedAt': '2026-01-01T13:00:00Z' });
  });

  it('minReadySeconds is passed on to the new ReplicaSet', async () => {
    const d = deploymentFixture('web', { replicas: 2, minReadySeconds: 7, status: completeStatus(2) });
    d.metadata!.annotations[REVISION_ANNOTATION] = '1';
    const cur = rsFor(deploymentFixture('web', { replicas: 2 }), { image: 'busybox:1', replicas: 2, available: 2, revision: 1 });
    const f = new DeploymentFixture(d, [cur]);
    await f.sync();
    expect(f.writes()).toEqual([`update ReplicaSet ${cur.metadata!.name}`]);
    expect(f.rs(cur.metadata!.name).spec?.minReadySeconds).toBe(7);
  });

  it('deletes old ReplicaSets beyond revisionHistoryLimit, oldest revisions first, only empty ones', async () => {
    const d = deploymentFixture('web', { replicas: 2, image: 'v5', revisionHistoryLimit: 2, status: completeStatus(2) });
    d.metadata!.annotations[REVISION_ANNOTATION] = '5';
    const rsList = [
      rsFor(d, { image: 'v1', replicas: 0, revision: 1 }),
      rsFor(d, { image: 'v2', replicas: 0, actual: 1, revision: 2 }), // a pod still terminating: kept
      rsFor(d, { image: 'v3', replicas: 0, revision: 3 }),
      rsFor(d, { image: 'v4', replicas: 0, revision: 4 }),
      rsFor(d, { image: 'v5', replicas: 2, available: 2, revision: 5 }),
    ];
    const f = new DeploymentFixture(d, rsList);
    await f.sync();
    expect(f.writes()).toEqual([`delete ReplicaSet ${rsList[0]!.metadata!.name}`]);
  });

  it('rollover: an update mid-rollout starts a new ReplicaSet and scales down the one that was growing', async () => {
    const d = deploymentFixture('web', { replicas: 10, image: 'v3' });
    d.metadata!.annotations[REVISION_ANNOTATION] = '2';
    const v1 = rsFor(d, { image: 'v1', replicas: 8, available: 8, revision: 1, created: T0 });
    const v2 = rsFor(d, { image: 'v2', replicas: 5, available: 0, revision: 2, created: T0 + 1000 });
    const f = new DeploymentFixture(d, [v1, v2]);
    await f.sync();
    const v3 = `web-${hashOf(d)}`;
    expect(f.writes()).toEqual([`create ReplicaSet ${v3}`, 'patch Deployment web', `update ReplicaSet ${v2.metadata!.name}`]);
    expect(f.rs(v3).spec?.replicas).toBe(0); // no room to surge yet
    expect(f.rs(v2.metadata!.name).spec?.replicas).toBe(0);
    expect(f.rs(v1.metadata!.name).spec?.replicas).toBe(8);
    expect(rev(f.rs(v3))).toBe('3');
    await f.settle(v2.metadata!.name);
    f.clear();
    await f.sync();
    expect(f.writes()).toEqual([`update ReplicaSet ${v3}`]);
    expect(f.rs(v3).spec?.replicas).toBe(5);
  });

  it('paused: no rollout of a new template, but scaling still works', async () => {
    const d = deploymentFixture('web', { replicas: 6, image: 'v2', paused: true, status: completeStatus(4) });
    d.metadata!.annotations[REVISION_ANNOTATION] = '1';
    const v1 = rsFor(d, { image: 'v1', replicas: 4, available: 4, revision: 1, desired: 4 });
    const f = new DeploymentFixture(d, [v1]);
    await f.sync();
    expect(f.client.summary({ verbs: ['create'] })).toEqual([]);
    expect(f.rs(v1.metadata!.name).spec?.replicas).toBe(6);
    const cond = getCondition(f.deployment().status, 'Progressing');
    expect(cond).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused' });
    // Resuming starts the rollout.
    const resumed = f.deployment();
    resumed.spec!.paused = false;
    await f.client.update('Deployment', resumed);
    f.clear();
    await f.sync();
    expect(f.client.summary({ verbs: ['create'] })).toEqual([`create ReplicaSet web-${hashOf(d)}`]);
    expect(getCondition(f.deployment().status, 'Progressing')?.reason).toBe('NewReplicaSetCreated');
  });

  it('progress deadline: requeues at the deadline, then reports ProgressDeadlineExceeded', async () => {
    const d = deploymentFixture('web', {
      replicas: 2,
      image: 'v2',
      progressDeadlineSeconds: 60,
      status: { observedGeneration: 1, replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: 1 },
    });
    d.metadata!.annotations[REVISION_ANNOTATION] = '2';
    const v1 = rsFor(d, { image: 'v1', replicas: 2, available: 2, revision: 1, created: T0 });
    const v2 = rsFor(d, { image: 'v2', replicas: 1, available: 0, revision: 2, created: T0 + 1 });
    const f = new DeploymentFixture(d, [v1, v2]);
    const first = await f.sync();
    const cond = getCondition(f.deployment().status, 'Progressing')!;
    expect(cond.reason).toBe('FoundNewReplicaSet');
    expect(first.requeueAfterMs).toBe(60_001);
    f.now = T0 + 30_000;
    expect((await f.sync()).requeueAfterMs).toBe(30_001);
    f.now = T0 + 60_001;
    const last = await f.sync();
    const after = getCondition(f.deployment().status, 'Progressing')!;
    expect(after).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(after.message).toBe(`ReplicaSet "${v2.metadata!.name}" has timed out progressing.`);
    expect(last.requeueAfterMs).toBeUndefined();
  });

  it('reaches Available and NewReplicaSetAvailable when complete', async () => {
    const d = deploymentFixture('web', { replicas: 2 });
    const cur = rsFor(d, { image: 'busybox:1', replicas: 2, available: 2, revision: 1 });
    const f = new DeploymentFixture(d, [cur]);
    await f.sync();
    const st = f.deployment().status!;
    expect(st).toMatchObject({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: 0, observedGeneration: 1 });
    expect(getCondition(st, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    expect(getCondition(st, 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
  });

  it('Recreate: scales old to 0, waits for old pods to be gone, then creates the new one at full size', async () => {
    const d = deploymentFixture('web', { replicas: 3, image: 'v2', strategy: { type: 'Recreate' } });
    d.metadata!.annotations[REVISION_ANNOTATION] = '1';
    const v1 = rsFor(d, { image: 'v1', replicas: 3, available: 3, revision: 1 });
    const pod = podFixture('web-v1-a', { labels: v1.spec!.template!.metadata!.labels, owner: rsControllerRef(v1), deleting: true });
    const f = new DeploymentFixture(d, [v1], [pod]);
    await f.sync();
    expect(f.writes()).toEqual([`update ReplicaSet ${v1.metadata!.name}`]);
    await f.settle(v1.metadata!.name);
    f.clear();
    await f.sync(); // a terminating old pod still exists
    expect(f.client.summary({ verbs: ['create'] })).toEqual([]);
    await f.client.delete('Pod', 'default', 'web-v1-a');
    f.clear();
    await f.sync();
    const name = `web-${hashOf(d)}`;
    expect(f.writes()).toEqual([`create ReplicaSet ${name}`, 'patch Deployment web']);
    expect(f.rs(name).spec?.replicas).toBe(3);
  });

  describe('autoRollback', () => {
    function stuck(opts: { crash?: boolean; now?: number } = {}) {
      const d = deploymentFixture('web', { replicas: 2, image: 'v2', autoRollback: true, progressDeadlineSeconds: 60 });
      d.metadata!.annotations[REVISION_ANNOTATION] = '2';
      const v1 = rsFor(d, { image: 'v1', replicas: 2, available: 2, revision: 1, created: T0 });
      v1.metadata!.annotations['kubernetes.io/change-cause'] = 'v1 release';
      const v2 = rsFor(d, { image: 'v2', replicas: 1, available: 0, revision: 2, created: T0 + 1 });
      const pod = podFixture('web-v2-a', {
        labels: v2.spec!.template!.metadata!.labels,
        owner: rsControllerRef(v2),
        restarts: opts.crash ? 3 : 0,
        waitingReason: opts.crash ? 'CrashLoopBackOff' : undefined,
      });
      return { f: new DeploymentFixture(d, [v1, v2], [pod]), v1, v2 };
    }

    it('rolls back to the previous revision when new pods crash-loop', async () => {
      const { f, v1, v2 } = stuck({ crash: true });
      await f.sync();
      expect(f.writes()).toEqual([`patch ReplicaSet ${v2.metadata!.name}`, 'patch Deployment web']);
      const d = f.deployment();
      expect(d.spec?.template?.spec?.containers[0]?.image).toBe('v1');
      expect(d.spec?.template?.metadata?.labels).toEqual({ app: 'web' });
      expect(d.metadata?.annotations['kubernetes.io/change-cause']).toBe('v1 release');
      expect(f.rs(v2.metadata!.name).metadata?.annotations[ROLLBACK_FAILED_ANNOTATION]).toContain('crash-looping');
      expect(f.recorder.events).toEqual([
        `Warning RolledBack Rolled back to revision 1 (replica set ${v1.metadata!.name}): pod web-v2-a of replica set ${v2.metadata!.name} is crash-looping`,
      ]);
      // The next pass rolls out the old ReplicaSet again as revision 3.
      f.clear();
      await f.sync();
      expect(rev(f.rs(v1.metadata!.name))).toBe('3');
      expect(f.client.summary({ verbs: ['create'] })).toEqual([]);
    });

    it('rolls back when the progress deadline passes', async () => {
      const { f } = stuck();
      await f.sync();
      expect(f.deployment().spec?.template?.spec?.containers[0]?.image).toBe('v2');
      f.now = T0 + 61_000;
      await f.sync(); // reports the deadline
      expect(getCondition(f.deployment().status, 'Progressing')?.reason).toBe('ProgressDeadlineExceeded');
      f.clear();
      await f.sync(); // acts on it
      expect(f.deployment().spec?.template?.spec?.containers[0]?.image).toBe('v1');
      expect(f.recorder.events[0]).toMatch(/^Warning RolledBack Rolled back to revision 1 .*did not progress within 60s$/);
    });

    it('does nothing without autoRollback or without a previous revision', async () => {
      const { f } = stuck({ crash: true });
      const d = f.deployment();
      d.spec!.autoRollback = false;
      await f.client.update('Deployment', d);
      await f.sync();
      expect(f.deployment().spec?.template?.spec?.containers[0]?.image).toBe('v2');

      const lone = deploymentFixture('web', { replicas: 1, autoRollback: true });
      const only = rsFor(lone, { image: 'busybox:1', replicas: 1, revision: 1 });
      const crash = podFixture('p', { labels: only.spec!.template!.metadata!.labels, owner: rsControllerRef(only), restarts: 5 });
      const g = new DeploymentFixture(lone, [only], [crash]);
      await g.sync();
      expect(g.client.summary({ verbs: ['patch'], kind: 'ReplicaSet' })).toEqual([]);
      expect(g.deployment().spec?.template?.spec?.containers[0]?.image).toBe('busybox:1');
    });
  });

  it('adopts a matching orphan ReplicaSet and releases one that stopped matching', async () => {
    const d = deploymentFixture('web', { replicas: 1 });
    const orphan = rsFor(d, { image: 'busybox:1', replicas: 1, available: 1, revision: 1 });
    orphan.metadata!.ownerReferences = [];
    const stray = rsFor(d, { image: 'v0', replicas: 0, revision: 0 });
    stray.metadata!.labels = { app: 'other' };
    const f = new DeploymentFixture(d, [orphan, stray]);
    await f.sync();
    expect(f.client.summary({ verbs: ['patch'], kind: 'ReplicaSet' })).toEqual([
      `patch ReplicaSet ${orphan.metadata!.name}`,
      `patch ReplicaSet ${stray.metadata!.name}`,
    ]);
    expect(f.rs(orphan.metadata!.name).metadata?.ownerReferences[0]?.uid).toBe('uid-web');
    expect(f.rs(stray.metadata!.name).metadata?.ownerReferences).toEqual([]);
  });
});
