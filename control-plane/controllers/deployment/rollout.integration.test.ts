// The ReplicaSet and Deployment controllers together on a real etcd: a 10-replica Deployment
// is rolled out, updated and rolled back while a watcher checks, at every pod event, that
// non-terminating pods never exceed replicas + maxSurge (13) and ready pods never drop below
// replicas - maxUnavailable (8). No scheduler or node agent exists here, so a small loop plays
// the nodes: it binds each new pod, marks it Running and Ready (or crash-looping when its image
// says "bad"), and removes pods whose deletion has started (as an agent does after stopping
// them).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isApiError } from '../../../proto/api/errors.js';
import { objectKey } from '../../../proto/api/kinds.js';
import { fromManifest } from '../../../proto/api/manifest.js';
import type { Deployment, ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import { testStore, type TestStore } from '../../../test/helpers/etcd-client.js';
import { until } from '../../../test/helpers/wait.js';
import { SharedInformers } from '../../informers.js';
import type { StoreWatch } from '../../storage/watch.js';
import { StoreControllerClient } from '../client.js';
import { ClientEventRecorder } from '../events.js';
import { ReplicaSetController } from '../replicaset/controller.js';
import { isPodReady } from '../replicaset/pods.js';
import { Controller } from '../runtime/controller.js';
import { DeploymentController } from './controller.js';
import { REVISION_ANNOTATION, ROLLBACK_FAILED_ANNOTATION, templateWithoutHash } from './util.js';

const REPLICAS = 10;
const MAX_PODS = 13; // 10 + 25% rounded up
const MIN_READY = 8; // 10 - 25% rounded down

let ts: TestStore;
let informers: SharedInformers;
let client: StoreControllerClient;
let recorder: ClientEventRecorder;
let rsc: ReplicaSetController;
let dc: DeploymentController;
let nodes: Controller;

function deploymentManifest(image: string): Deployment {
  return fromManifest({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', annotations: { 'kubernetes.io/change-cause': `image ${image}` } },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { restartPolicy: 'Always', containers: [{ name: 'web', image, imagePullPolicy: 'IfNotPresent' }] },
      },
    },
  }).object as Deployment;
}

/** Plays the node agents: bind, start (Running + Ready), and finish deletions. */
function startNodes(): Controller {
  const c = new Controller({
    name: 'test-nodes',
    workers: 2,
    reconcile: async (key) => {
      const [ns = '', name = ''] = key.split('/');
      let pod: Pod;
      try {
        pod = await ts.store.get('Pod', ns, name);
      } catch (e) {
        if (isApiError(e, 'NotFound')) return {};
        throw e;
      }
      if (pod.metadata?.deletionTimestamp) {
        await ts.store.delete('Pod', ns, name, { uid: pod.metadata.uid }).catch((e: unknown) => {
          if (!isApiError(e, 'NotFound')) throw e;
        });
        return {};
      }
      if (!pod.spec?.nodeName) {
        pod.spec!.nodeName = 'node-1';
        await client.update('Pod', pod);
        return {};
      }
      if (pod.spec.containers[0]?.image.includes('bad')) {
        if (pod.status?.containerStatuses[0]?.restartCount === 3) return {};
        pod.status = {
          ...pod.status!,
          phase: 'Running',
          containerStatuses: [
            {
              name: 'web', ready: false, restartCount: 3, image: pod.spec.containers[0].image, imageID: '', containerID: '', started: false,
              state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off restarting failed container' }, running: undefined, terminated: undefined },
              lastState: undefined,
            },
          ],
        };
        await client.updateStatus('Pod', pod);
        return {};
      }
      if (isPodReady(pod)) return {};
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      pod.status = {
        ...pod.status!,
        phase: 'Running',
        startTime: now,
        conditions: [
          { type: 'Ready', status: 'True', reason: '', message: '', lastTransitionTime: now, lastUpdateTime: '', lastProbeTime: '', lastHeartbeatTime: '' },
        ],
      };
      await client.updateStatus('Pod', pod);
      return {};
    },
  });
  informers.get('Pod').addHandlers({ onAdd: (p) => c.enqueue(objectKey(p)), onUpdate: (_o, p) => c.enqueue(objectKey(p)) });
  c.start();
  return c;
}

/** Follows pods from a consistent list and records the extremes of the two invariants. */
class PodInvariants {
  private readonly pods = new Map<string, Pod>();
  maxActive = 0;
  minReady = Number.MAX_SAFE_INTEGER;
  violations: string[] = [];
  private watch: StoreWatch<'Pod'> | undefined;

  async start(): Promise<void> {
    const { items, revision } = await ts.store.list('Pod');
    for (const p of items) this.pods.set(objectKey(p), p);
    this.check(revision);
    this.watch = ts.store.watch('Pod', {
      afterRevision: revision,
      onEvent: (ev) => {
        if (ev.type === 'DELETED') this.pods.delete(objectKey(ev.object));
        else this.pods.set(objectKey(ev.object), ev.object);
        this.check(ev.revision);
      },
      onError: (e) => this.violations.push(`watch failed: ${e.message}`),
    });
    await this.watch.ready;
  }

  private check(revision: number): void {
    const active = [...this.pods.values()].filter((p) => !p.metadata?.deletionTimestamp);
    const ready = active.filter(isPodReady).length;
    this.maxActive = Math.max(this.maxActive, active.length);
    this.minReady = Math.min(this.minReady, ready);
    if (active.length > MAX_PODS) this.violations.push(`rev ${revision}: ${active.length} pods > ${MAX_PODS}`);
    if (ready < MIN_READY) this.violations.push(`rev ${revision}: ${ready} ready < ${MIN_READY}`);
  }

  /** Waits until the watcher's view equals a fresh list (every change seen). */
  async caughtUp(): Promise<void> {
    await until(
      async () => {
        const { items } = await ts.store.list('Pod');
        return items.length === this.pods.size && items.every((p) => this.pods.get(objectKey(p))?.metadata?.resourceVersion === p.metadata?.resourceVersion);
      },
      10_000,
      'watcher caught up',
    );
  }

  async stop(): Promise<void> {
    await this.watch?.close();
  }
}

async function rolledOut(): Promise<Deployment> {
  let d: Deployment | undefined;
  await until(
    async () => {
      d = await ts.store.get('Deployment', 'default', 'web');
      const s = d.status;
      const progressing = s?.conditions.find((c) => c.type === 'Progressing');
      return (
        !!s &&
        s.observedGeneration === d.metadata?.generation &&
        s.updatedReplicas === REPLICAS &&
        s.replicas === REPLICAS &&
        s.availableReplicas === REPLICAS &&
        progressing?.reason === 'NewReplicaSetAvailable'
      );
    },
    30_000,
    'rollout complete',
  );
  // Pods of old ReplicaSets are gone too.
  await until(async () => (await ts.store.list('Pod')).items.length === REPLICAS, 30_000, `${REPLICAS} pods left`);
  return d!;
}

async function replicaSets(): Promise<ReplicaSet[]> {
  return (await ts.store.list('ReplicaSet')).items.sort(
    (a, b) => Number(a.metadata?.annotations[REVISION_ANNOTATION]) - Number(b.metadata?.annotations[REVISION_ANNOTATION]),
  );
}

beforeAll(async () => {
  ts = testStore();
  informers = new SharedInformers(ts.store);
  client = new StoreControllerClient(ts.store);
  recorder = new ClientEventRecorder(client, { component: 'controller-manager' });
  rsc = new ReplicaSetController({ informers, client, recorder });
  dc = new DeploymentController({ informers, client, recorder });
  await rsc.start();
  await dc.start();
  nodes = startNodes();
});

afterAll(async () => {
  await Promise.all([rsc?.stop(), dc?.stop(), nodes?.stop()]);
  await informers?.stop();
  await recorder?.flush();
  await ts?.close();
});

describe('Deployment rollout on etcd', () => {
  let v1: ReplicaSet;
  let v2: ReplicaSet;

  it('rolls out 10 replicas at revision 1', async () => {
    await ts.store.create('Deployment', deploymentManifest('app:v1'));
    const d = await rolledOut();
    expect(d.metadata?.annotations[REVISION_ANNOTATION]).toBe('1');
    const rsList = await replicaSets();
    expect(rsList).toHaveLength(1);
    v1 = rsList[0]!;
    expect(v1.metadata?.annotations['kubernetes.io/change-cause']).toBe('image app:v1');
    const pods = (await ts.store.list('Pod')).items;
    const prefix = `${v1.metadata!.name}-`;
    expect(pods.every((p) => p.metadata?.name.startsWith(prefix) && p.metadata.name.length === prefix.length + 5)).toBe(true);
  });

  it('an image change rolls over within maxSurge and maxUnavailable at every event', async () => {
    const inv = new PodInvariants();
    await inv.start();
    await ts.store.guaranteedUpdate('Deployment', 'default', 'web', (d) => {
      d.spec!.template!.spec!.containers[0]!.image = 'app:v2';
      d.metadata!.annotations['kubernetes.io/change-cause'] = 'image app:v2';
      return d;
    });
    const d = await rolledOut();
    await inv.caughtUp();
    await inv.stop();
    expect(inv.violations).toEqual([]);
    expect(inv.maxActive).toBeGreaterThan(REPLICAS); // it did surge
    expect(inv.maxActive).toBeLessThanOrEqual(MAX_PODS);
    expect(inv.minReady).toBeGreaterThanOrEqual(MIN_READY);
    expect(d.metadata?.annotations[REVISION_ANNOTATION]).toBe('2');
    const rsList = await replicaSets();
    expect(rsList.map((rs) => [rs.metadata?.annotations[REVISION_ANNOTATION], rs.spec?.replicas])).toEqual([
      ['1', 0],
      ['2', 10],
    ]);
    v2 = rsList[1]!;
    expect(v2.metadata?.annotations['kubernetes.io/change-cause']).toBe('image app:v2');
  });

  it('rolling back reuses the old ReplicaSet, which becomes revision 3', async () => {
    const inv = new PodInvariants();
    await inv.start();
    // What `rollout undo` does: copy revision 1's template (without its hash label).
    await ts.store.guaranteedUpdate('Deployment', 'default', 'web', (d) => {
      d.spec!.template = templateWithoutHash(v1.spec?.template);
      d.metadata!.annotations['kubernetes.io/change-cause'] = 'image app:v1';
      return d;
    });
    const d = await rolledOut();
    await inv.caughtUp();
    await inv.stop();
    expect(inv.violations).toEqual([]);
    expect(inv.minReady).toBeGreaterThanOrEqual(MIN_READY);
    expect(d.metadata?.annotations[REVISION_ANNOTATION]).toBe('3');
    const rsList = await replicaSets();
    expect(rsList.map((rs) => [rs.metadata?.name, rs.metadata?.annotations[REVISION_ANNOTATION], rs.spec?.replicas])).toEqual([
      [v2.metadata?.name, '2', 0],
      [v1.metadata?.name, '3', 10],
    ]);
    const pods = (await ts.store.list('Pod')).items;
    expect(pods.every((p) => p.metadata?.ownerReferences[0]?.uid === v1.metadata?.uid)).toBe(true);
    await recorder.flush();
    const events = (await ts.store.list('Event')).items.filter((e) => e.involvedObject?.kind === 'Deployment');
    expect(events.map((e) => e.message)).toContain(`Scaled up replica set ${v1.metadata?.name} to 10`);
  });

  it('autoRollback: crash-looping new pods roll the Deployment back to the previous revision', async () => {
    const inv = new PodInvariants();
    await inv.start();
    await ts.store.guaranteedUpdate('Deployment', 'default', 'web', (d) => {
      d.spec!.autoRollback = true;
      d.spec!.template!.spec!.containers[0]!.image = 'app:bad';
      d.metadata!.annotations['kubernetes.io/change-cause'] = 'image app:bad';
      return d;
    });
    await until(
      async () => (await ts.store.get('Deployment', 'default', 'web')).spec?.template?.spec?.containers[0]?.image === 'app:v1',
      30_000,
      'rolled back to app:v1',
    );
    const d = await rolledOut();
    await inv.caughtUp();
    await inv.stop();
    expect(inv.violations).toEqual([]);
    expect(d.metadata?.annotations['kubernetes.io/change-cause']).toBe('image app:v1');
    expect(d.metadata?.annotations[REVISION_ANNOTATION]).toBe('5');
    const rsList = await replicaSets();
    const bad = rsList.find((rs) => rs.spec?.template?.spec?.containers[0]?.image === 'app:bad')!;
    expect(bad.metadata?.annotations[REVISION_ANNOTATION]).toBe('4');
    expect(bad.metadata?.annotations[ROLLBACK_FAILED_ANNOTATION]).toMatch(/crash-looping/);
    expect(bad.spec?.replicas).toBe(0);
    expect(rsList.find((rs) => rs.metadata?.uid === v1.metadata?.uid)?.metadata?.annotations[REVISION_ANNOTATION]).toBe('5');
    await recorder.flush();
    const rolledBack = (await ts.store.list('Event')).items.filter((e) => e.reason === 'RolledBack');
    expect(rolledBack).toHaveLength(1);
    expect(rolledBack[0]!.type).toBe('Warning');
    expect(rolledBack[0]!.message).toMatch(/^Rolled back to revision 3 \(replica set web-\w+\): pod web-\w+-\w+ of replica set web-\w+ is crash-looping$/);
  });
});
