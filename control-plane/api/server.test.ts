import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, fromGrpcError } from '../../proto/api/errors.js';
import { unwrap, unwrapAs, wrap } from '../../proto/api/kinds.js';
import { fromManifest, type JsonObject } from '../../proto/api/manifest.js';
import type { Deployment } from '../../proto/gen/skiff/v1/apps.js';
import { testStore, type TestStore } from '../../test/helpers/etcd-client.js';
import { until } from '../../test/helpers/wait.js';
import { Metrics } from '../metrics.js';
import { LAST_APPLIED } from './apply-merge.js';
import { collect, startTestServer, type TestServer } from './testing.js';
import { parseTokens } from './auth.js';

const deployDoc = (name: string, spec: JsonObject = {}, labels: Record<string, string> = {}): JsonObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } },
    ...spec,
  },
});

const podDoc = (name: string, labels: Record<string, string> = {}, extra: JsonObject = {}): JsonObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { containers: [{ name: 'app', image: 'busybox' }], ...extra },
});

const resourceOf = (doc: JsonObject) => {
  const { info, object } = fromManifest(doc);
  return wrap(info.kind, object);
};

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

let ts: TestStore;
let srv: TestServer;
const metrics = new Metrics();

beforeAll(async () => {
  ts = testStore();
  srv = await startTestServer(ts.store, { metrics });
});
afterAll(async () => {
  await srv.stop();
  await ts.close();
});

describe('create, get, list, update, delete', () => {
  it('creates with Kubernetes defaults and reads it back by any alias', async () => {
    const created = unwrapAs('Deployment', await srv.api.create({ object: resourceOf(deployDoc('crud')) }));
    expect(created.metadata?.namespace).toBe('default');
    expect(created.metadata?.uid).not.toBe('');
    expect(created.spec?.replicas).toBe(1);
    expect(created.spec?.strategy?.rollingUpdate?.maxSurge?.strVal).toBe('25%');
    expect(created.spec?.template?.spec?.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
    expect(created.spec?.template?.spec?.terminationGracePeriodSeconds).toBe(30);
    const got = unwrapAs('Deployment', await srv.api.get({ kind: 'deploy', name: 'crud' }));
    expect(got.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    const listed = await srv.api.list({ kind: 'deployments', namespace: '' });
    expect(listed.items.map((r) => unwrap(r).value.metadata?.name)).toContain('crud');
    expect(Number(listed.resourceVersion)).toBeGreaterThanOrEqual(Number(created.metadata?.resourceVersion));
  });

  it('rejects a stale update with Conflict and keeps stored status on a plain update', async () => {
    const d = unwrapAs('Deployment', await srv.api.create({ object: resourceOf(deployDoc('conf')) }));
    const withStatus = structuredClone(d);
    withStatus.status = { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1, unavailableReplicas: 0, conditions: [], collisionCount: undefined };
    const s = unwrapAs('Deployment', await srv.api.update({ object: wrap('Deployment', withStatus), subresource: 'status' }));
    expect(s.status?.readyReplicas).toBe(1);
    expect(s.metadata?.generation).toBe(1);
    const stale = structuredClone(d);
    stale.spec!.replicas = 3;
    const err = await failure(srv.api.update({ object: wrap('Deployment', stale) }));
    expect(err.code).toBe('Conflict');
    const fresh = structuredClone(s);
    fresh.spec!.replicas = 3;
    fresh.status = undefined;
    const u = unwrapAs('Deployment', await srv.api.update({ object: wrap('Deployment', fresh) }));
    expect(u.spec?.replicas).toBe(3);
    expect(u.status?.readyReplicas).toBe(1);
    expect(u.metadata?.generation).toBe(2);
  });

  it('patches with merge and JSON patch', async () => {
    await srv.api.create({ object: resourceOf(deployDoc('pat')) });
    const m = unwrapAs('Deployment', await srv.api.patch({ kind: 'deploy', name: 'pat', patchType: 'merge', patch: '{"spec":{"replicas":4},"metadata":{"labels":{"x":"y"}}}' }));
    expect(m.spec?.replicas).toBe(4);
    expect(m.metadata?.labels).toEqual({ x: 'y' });
    const j = unwrapAs('Deployment', await srv.api.patch({ kind: 'deploy', name: 'pat', patchType: 'json', patch: '[{"op":"replace","path":"/spec/replicas","value":2}]' }));
    expect(j.spec?.replicas).toBe(2);
    const bad = await failure(srv.api.patch({ kind: 'deploy', name: 'pat', patchType: 'merge', patch: '{"spec":{"replicas":-1}}' }));
    expect(bad.code).toBe('Invalid');
    expect(bad.causes.map((c) => c.field)).toEqual(['spec.replicas']);
    const notJson = await failure(srv.api.patch({ kind: 'deploy', name: 'pat', patchType: 'json', patch: '[{"op":"replace","path":"/nope/x","value":2}]' }));
    expect(notJson.code).toBe('BadRequest');
  });

  it('answers unknown kinds and missing namespaces clearly', async () => {
    const e1 = await failure(srv.api.get({ kind: 'widgets', name: 'x' }));
    expect(e1.code).toBe('BadRequest');
    expect(e1.message).toMatch(/unknown kind "widgets"; supported: .*apps\/v1 Deployment/);
    expect((await failure(srv.api.delete({ kind: 'ns', name: 'default' }))).code).toBe('BadRequest');
    const e2 = await failure(srv.api.create({ object: resourceOf({ ...deployDoc('nons'), metadata: { name: 'nons', namespace: 'nope' } }) }));
    expect(e2.code).toBe('NotFound');
    expect(e2.message).toMatch(/Namespace "nope" not found/);
  });

  it('deletes unbound pods at once and marks bound pods for graceful deletion', async () => {
    await srv.api.create({ object: resourceOf(podDoc('unbound')) });
    await srv.api.delete({ kind: 'pod', name: 'unbound' });
    expect((await failure(srv.api.get({ kind: 'pod', name: 'unbound' }))).code).toBe('NotFound');

    const created = unwrapAs('Pod', await srv.api.create({ object: resourceOf(podDoc('bound', {}, { nodeName: 'n1' })) }));
    expect(created.status?.phase).toBe('Pending');
    const marked = unwrapAs('Pod', await srv.api.delete({ kind: 'pod', name: 'bound' }));
    expect(marked.metadata?.deletionTimestamp).not.toBe('');
    expect(marked.metadata?.deletionGracePeriodSeconds).toBe(30);
    const still = unwrapAs('Pod', await srv.api.get({ kind: 'pod', name: 'bound' }));
    expect(still.metadata?.deletionTimestamp).toBe(marked.metadata?.deletionTimestamp);
    await srv.api.delete({ kind: 'pod', name: 'bound', gracePeriodSeconds: 0 });
    expect((await failure(srv.api.get({ kind: 'pod', name: 'bound' }))).code).toBe('NotFound');
  });

  it('a status update changes only status and keeps the QoS class', async () => {
    const p = unwrapAs('Pod', await srv.api.create({ object: resourceOf(podDoc('st', {}, { nodeName: 'n1' })) }));
    expect(p.status?.qosClass).toBe('BestEffort');
    const next = structuredClone(p);
    next.spec!.containers[0]!.image = 'changed:1';
    next.status = { ...p.status!, phase: 'Running', qosClass: '' };
    const u = unwrapAs('Pod', await srv.api.update({ object: wrap('Pod', next), subresource: 'status' }));
    expect(u.status?.phase).toBe('Running');
    expect(u.status?.qosClass).toBe('BestEffort');
    expect(u.spec?.containers[0]?.image).toBe('busybox');
    const e = await failure(srv.api.update({ object: wrap('Pod', next), subresource: 'scale' }));
    expect(e.code).toBe('BadRequest');
  });

  it('keeps an object with finalizers until an update empties them', async () => {
    const doc = deployDoc('fin');
    (doc.metadata as JsonObject).finalizers = ['example.com/hold'];
    await srv.api.create({ object: resourceOf(doc) });
    const marked = unwrapAs('Deployment', await srv.api.delete({ kind: 'deploy', name: 'fin', propagationPolicy: 'Foreground' }));
    expect(marked.metadata?.deletionTimestamp).not.toBe('');
    expect(marked.metadata?.finalizers).toEqual(['example.com/hold', 'foregroundDeletion']);
    const e = await failure(srv.api.patch({ kind: 'deploy', name: 'fin', patch: '{"metadata":{"finalizers":["a/b","example.com/hold","foregroundDeletion"]}}' }));
    expect(e.code).toBe('Invalid');
    await srv.api.patch({ kind: 'deploy', name: 'fin', patch: '{"metadata":{"finalizers":null}}' });
    expect((await failure(srv.api.get({ kind: 'deploy', name: 'fin' }))).code).toBe('NotFound');
  });
});

describe('apply', () => {
  const doc = (d: JsonObject, source = 'app.yaml#1') => ({ manifest: JSON.stringify(d), source });

  it('creates, is a no-op when re-applied, changes exactly an edited field', async () => {
    const first = await srv.api.apply({ documents: [doc(deployDoc('ap'))] });
    expect(first.results[0]?.action).toBe('created');
    const v1 = unwrapAs('Deployment', first.results[0]?.object);
    expect(v1.metadata?.annotations[LAST_APPLIED]).toBeDefined();
    const again = await srv.api.apply({ documents: [doc(deployDoc('ap'))] });
    expect(again.results[0]?.action).toBe('unchanged');
    const got = unwrapAs('Deployment', await srv.api.get({ kind: 'deploy', name: 'ap' }));
    expect(got.metadata?.resourceVersion).toBe(v1.metadata?.resourceVersion);

    const edited = deployDoc('ap', { minReadySeconds: 5 });
    const third = await srv.api.apply({ documents: [doc(edited)] });
    expect(third.results[0]?.action).toBe('configured');
    const v3 = unwrapAs('Deployment', third.results[0]?.object);
    expect(v3.spec?.minReadySeconds).toBe(5);
    const strip = (d: Deployment) => ({ ...d.spec, minReadySeconds: 0 });
    expect(strip(v3)).toEqual(strip(v1));
    expect(v3.metadata?.generation).toBe(2);
  });

  it('removes a field dropped from the manifest, keeps replicas set by a scale', async () => {
    await srv.api.apply({ documents: [doc(deployDoc('ap2', {}, { team: 'a', tier: 'b' }))] });
    await srv.api.patch({ kind: 'deploy', name: 'ap2', patch: '{"spec":{"replicas":5}}' });
    const r = await srv.api.apply({ documents: [doc(deployDoc('ap2', {}, { team: 'a' }))] });
    expect(r.results[0]?.action).toBe('configured');
    const d = unwrapAs('Deployment', await srv.api.get({ kind: 'deploy', name: 'ap2' }));
    expect(d.metadata?.labels).toEqual({ team: 'a' });
    expect(d.spec?.replicas).toBe(5);
    // Declaring replicas takes them back.
    await srv.api.apply({ documents: [doc(deployDoc('ap2', { replicas: 2 }, { team: 'a' }))] });
    expect(unwrapAs('Deployment', await srv.api.get({ kind: 'deploy', name: 'ap2' })).spec?.replicas).toBe(2);
  });

  it('writes nothing when one document of many is invalid, naming every cause with its source', async () => {
    const bad = deployDoc('ap-bad');
    ((bad.spec as JsonObject).template as { spec: { containers: JsonObject[] } }).spec.containers[0]!.image = '';
    const e = await failure(srv.api.apply({ documents: [doc(deployDoc('ap-good'), 'a.yaml#1'), doc(bad, 'a.yaml#2'), doc(podDoc('Bad_Name'), 'a.yaml#3')] }));
    expect(e.code).toBe('Invalid');
    expect(e.causes).toEqual([
      { field: 'spec.template.spec.containers[0].image', message: 'required', source: 'a.yaml#2' },
      expect.objectContaining({ field: 'metadata.name', source: 'a.yaml#3' }),
    ]);
    expect((await failure(srv.api.get({ kind: 'deploy', name: 'ap-good' }))).code).toBe('NotFound');
  });

  it('applies a namespace and objects in it together, atomically; dry run writes nothing', async () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-x' } };
    const d = { ...deployDoc('inns'), metadata: { name: 'inns', namespace: 'team-x' } };
    const dry = await srv.api.apply({ documents: [doc(ns), doc(d)], dryRun: true });
    expect(dry.results.map((x) => x.action)).toEqual(['created', 'created']);
    expect((await failure(srv.api.get({ kind: 'ns', name: 'team-x' }))).code).toBe('NotFound');
    const res = await srv.api.apply({ documents: [doc(ns), doc(d)] });
    const rvs = res.results.map((x) => unwrap(x.object).value.metadata?.resourceVersion);
    expect(rvs[0]).toBe(rvs[1]);
  });
});

describe('watch', () => {
  it('sends current objects, then changes; resumes from a resourceVersion; filters by label', async () => {
    await srv.api.create({ object: resourceOf({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w' } }) });
    const mk = (name: string, labels: Record<string, string>) => srv.api.create({ object: resourceOf({ ...podDoc(name, labels), metadata: { name, namespace: 'w', labels } }) });
    await mk('w1', { app: 'a' });
    const all = collect(srv.api.watch({ kind: 'pods', namespace: 'w', allowBookmarks: true }));
    const labelled = collect(srv.api.watch({ kind: 'po', namespace: 'w', labelSelector: 'app=b' }));
    await until(() => all.events.length >= 2, 10_000, 'initial events');
    expect(all.events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    const bookmarkRv = all.events[1]!.resourceVersion;
    await mk('w2', { app: 'b' });
    await srv.api.patch({ kind: 'pod', namespace: 'w', name: 'w2', patch: '{"metadata":{"labels":{"app":"c"}}}' });
    await srv.api.patch({ kind: 'pod', namespace: 'w', name: 'w1', patch: '{"metadata":{"labels":{"app":"b"}}}' });
    await until(() => all.events.length >= 5, 10_000, 'change events');
    expect(all.events.slice(2).map((e) => `${e.type} ${unwrap(e.object).value.metadata?.name}`)).toEqual(['ADDED w2', 'MODIFIED w2', 'MODIFIED w1']);
    await until(() => labelled.events.length >= 3, 10_000, 'labelled events');
    expect(labelled.events.map((e) => `${e.type} ${unwrap(e.object).value.metadata?.name}`)).toEqual(['ADDED w2', 'DELETED w2', 'ADDED w1']);

    const resumed = collect(srv.api.watch({ kind: 'pods', namespace: 'w', resourceVersion: bookmarkRv }));
    await until(() => resumed.events.length >= 3, 10_000, 'replayed events');
    expect(resumed.events.map((e) => e.resourceVersion)).toEqual(all.events.slice(2).map((e) => e.resourceVersion));
    for (const w of [all, labelled, resumed]) w.stop();
  });

  it('lists from the cache with resourceVersion 0 (by node through the index); a watch from its revision misses nothing', async () => {
    await srv.api.create({ object: resourceOf({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'c0' } }) });
    const mk = (name: string, nodeName: string) =>
      srv.api.create({ object: resourceOf({ ...podDoc(name, { app: 'c0' }, nodeName ? { nodeName } : {}), metadata: { name, namespace: 'c0', labels: { app: 'c0' } } }) });
    await mk('on-a', 'node-a');
    await mk('on-b', 'node-b');
    // Both lists below must see every pod: wait for the cache to reach the last write.
    const last = await mk('unbound', '');
    // The cache may trail the write: a resourceVersion 0 list returns whatever it holds.
    let listed = await srv.api.list({ kind: 'pods', namespace: 'c0', fieldSelector: 'spec.nodeName=node-a', resourceVersion: '0' });
    await until(async () => {
      listed = await srv.api.list({ kind: 'pods', namespace: 'c0', fieldSelector: 'spec.nodeName=node-a', resourceVersion: '0' });
      return Number(listed.resourceVersion) >= Number(unwrap(last).value.metadata?.resourceVersion);
    }, 10_000, 'the cache to reach the write');
    expect(listed.items.map((i) => unwrap(i).value.metadata?.name)).toEqual(['on-a']);
    const labelled = await srv.api.list({ kind: 'pods', namespace: 'c0', labelSelector: 'app=c0', fieldSelector: 'spec.nodeName!=node-a', resourceVersion: '0' });
    expect(labelled.items.map((i) => unwrap(i).value.metadata?.name).sort()).toEqual(['on-b', 'unbound']);
    const w = collect(srv.api.watch({ kind: 'pods', namespace: 'c0', fieldSelector: 'spec.nodeName=node-a', resourceVersion: listed.resourceVersion }));
    await mk('on-a-2', 'node-a');
    await until(() => w.events.length >= 1, 10_000, 'the new pod');
    expect(w.events.map((e) => `${e.type} ${unwrap(e.object).value.metadata?.name}`)).toEqual(['ADDED on-a-2']);
    w.stop();
    const bad = await failure(srv.api.list({ kind: 'pods', resourceVersion: '17' }));
    expect(bad.code).toBe('BadRequest');
  });

  it('watches Events straight from etcd (no cache): current ones, then new ones, filtered; resumes', async () => {
    const ev = (name: string, uid: string): JsonObject => ({
      apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' },
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'p', uid }, reason: 'Test', message: name, type: 'Normal',
    });
    await srv.api.create({ object: resourceOf(ev('ev-1', 'u1')) });
    const all = collect(srv.api.watch({ kind: 'events', namespace: 'default', fieldSelector: 'involvedObject.uid=u1', allowBookmarks: true }));
    await until(() => all.events.length >= 2, 10_000, 'the current event and a bookmark');
    expect(all.events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    const from = all.events[1]!.resourceVersion;
    await srv.api.create({ object: resourceOf(ev('ev-2', 'u2')) });
    await srv.api.create({ object: resourceOf(ev('ev-3', 'u1')) });
    await until(() => all.events.length >= 3, 10_000, 'the new matching event');
    expect(all.events.slice(2).map((e) => `${e.type} ${unwrap(e.object).value.metadata?.name}`)).toEqual(['ADDED ev-3']);
    const resumed = collect(srv.api.watch({ kind: 'events', namespace: 'default', resourceVersion: from }));
    await until(() => resumed.events.length >= 2, 10_000, 'replayed events');
    expect(resumed.events.map((e) => unwrap(e.object).value.metadata?.name)).toEqual(['ev-2', 'ev-3']);
    expect(srv.informers.peek('Event')?.hasSynced ?? false).toBe(false);
    for (const w of [all, resumed]) w.stop();
  });

  it('delivers every object of a multi-object apply (one etcd revision)', async () => {
    const w = collect(srv.api.watch({ kind: 'pods', labelSelector: 'batch=txn' }));
    await until(() => srv.informers.get('Pod').hasSynced, 10_000, 'informer');
    const docs = ['t1', 't2', 't3'].map((n) => ({ manifest: JSON.stringify(podDoc(n, { batch: 'txn' })), source: n }));
    await srv.api.apply({ documents: docs });
    await until(() => w.events.length >= 3, 10_000, 'three events');
    expect(w.events.map((e) => `${e.type} ${unwrap(e.object).value.metadata?.name}`)).toEqual(['ADDED t1', 'ADDED t2', 'ADDED t3']);
    expect(new Set(w.events.map((e) => e.resourceVersion)).size).toBe(1);
    w.stop();
  });

  it('ends with Expired when resuming from before the history', async () => {
    const tiny = await startTestServer(ts.store, { watchCache: { maxEvents: 1 } });
    try {
      const p = async (n: string) => tiny.api.create({ object: resourceOf(podDoc(n)) });
      const w = collect(tiny.api.watch({ kind: 'pods' }));
      await until(() => tiny.informers.get('Pod').hasSynced, 10_000, 'informer');
      const a = unwrapAs('Pod', await p('exp-a'));
      await p('exp-b');
      await p('exp-c');
      await until(() => w.events.filter((e) => unwrap(e.object).value.metadata?.name === 'exp-c').length > 0, 10_000, 'events');
      const old = collect(tiny.api.watch({ kind: 'pods', resourceVersion: a.metadata!.resourceVersion }));
      await until(() => old.error() !== undefined, 10_000, 'expiry');
      expect((old.error() as ApiError).code).toBe('Expired');
      w.stop();
    } finally {
      await tiny.stop();
    }
  });
});

describe('auth', () => {
  it('refuses calls without a valid token', async () => {
    const secure = await startTestServer(ts.store, { tokens: parseTokens('s3cret,admin,admin,"system:masters"') });
    try {
      expect((await secure.api.list({ kind: 'pods' })).items).toBeDefined();
      const anon = secure.connect();
      expect((await failure(anon.list({ kind: 'pods' }))).code).toBe('Unauthorized');
      expect((await failure(secure.connect('wrong').get({ kind: 'pods', name: 'x' }))).code).toBe('Unauthorized');
      const w = collect(anon.watch({ kind: 'pods' }));
      await until(() => w.error() !== undefined, 10_000, 'watch refusal');
      expect((w.error() as ApiError).code).toBe('Unauthorized');
      // The verbs that reach into pods: exec (both kinds), eviction and port-forward.
      const unary = <Req, Res>(fn: (r: Req, md: typeof anon.md, cb: (e: Error | null, r?: Res) => void) => unknown, req: Req): Promise<unknown> =>
        new Promise((resolve, reject) => fn(req, anon.md, (e) => (e ? reject(fromGrpcError(e)) : resolve(undefined))));
      expect((await failure(unary(anon.client.exec.bind(anon.client), { namespace: '', pod: 'x', container: '', command: ['id'], timeoutSeconds: 0 }))).code).toBe('Unauthorized');
      expect((await failure(unary(anon.client.evict.bind(anon.client), { namespace: '', name: 'x', dryRun: false }))).code).toBe('Unauthorized');
      const pf = anon.client.portForward(anon.md);
      const pfError = new Promise<unknown>((resolve) => {
        pf.on('error', (e) => resolve(fromGrpcError(e)));
        pf.on('data', () => undefined);
      });
      pf.write({ namespace: '', pod: 'x', port: 80, data: Buffer.alloc(0) });
      expect(((await pfError) as ApiError).code).toBe('Unauthorized');
      const es = anon.client.execStream(anon.md);
      const esError = new Promise<unknown>((resolve) => {
        es.on('error', (e) => resolve(fromGrpcError(e)));
        es.on('data', () => undefined);
      });
      es.write({ start: { namespace: '', pod: 'x', container: '', command: ['sh'], timeoutSeconds: 0 }, tty: true, stdin: true, data: Buffer.alloc(0), channel: 0, closeStdin: false, width: 0, height: 0, exitCode: undefined });
      expect(((await esError) as ApiError).code).toBe('Unauthorized');
    } finally {
      await secure.stop();
    }
  });
});

describe('version', () => {
  it('reports the server and etcd versions', async () => {
    const v = await srv.api.version();
    expect(v.version).toBe('0.1.0');
    expect(v.etcdVersion).toMatch(/^\d+\.\d+/);
  });
});


describe('metrics', () => {
  it('counts calls by verb, kind and code, and open watches', async () => {
    await failure(srv.api.get({ kind: 'po', name: 'metrics-missing' }));
    const w = collect(srv.api.watch({ kind: 'nodes' }));
    await until(async () => (await metrics.registry.getSingleMetricAsString('skiff_api_watchers')).includes('kind="Node"} 1'), 10_000, 'watcher gauge');
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/skiff_api_requests_total\{verb="get",kind="Pod",code="NotFound"\} [1-9]/);
    expect(text).toMatch(/skiff_api_request_duration_seconds_count\{verb="get",kind="Pod",code="NotFound"\} [1-9]/);
    w.stop();
    await until(async () => (await metrics.registry.getSingleMetricAsString('skiff_api_watchers')).includes('kind="Node"} 0'), 10_000, 'watcher gone');
  });
});
