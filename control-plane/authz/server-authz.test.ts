// Authorization through the real API server (gRPC and REST) on a real etcd: tokens for an
// admin, two nodes, a view user and an edit user; the built-in roles the server creates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../proto/api/errors.js';
import { unwrapAs, wrap } from '../../proto/api/kinds.js';
import { fromManifest, type JsonObject } from '../../proto/api/manifest.js';
import type { WatchEvent } from '../../proto/gen/skiff/v1/api.js';
import { testStore, type TestStore } from '../../test/helpers/etcd-client.js';
import { until } from '../../test/helpers/wait.js';
import { parseTokens } from '../api/auth.js';
import { httpsFetch, type HttpsInit } from '../../test/helpers/https.js';
import { collect, startTestServer, type TestApi, type TestServer } from '../api/testing.js';

const TOKENS = `
admin-t,admin,admin,"system:masters"
n1-t,system:node:n1,system:node:n1,"system:nodes"
n2-t,system:node:n2,system:node:n2,"system:nodes"
bob-t,bob,bob
alice-t,alice,alice,"developers"
carol-t,carol,carol
`;

const res = (doc: JsonObject) => {
  const { info, object } = fromManifest(doc);
  return wrap(info.kind, object);
};
const json = (docs: JsonObject[]) => docs.map((d, i) => ({ manifest: JSON.stringify(d), source: `doc#${i + 1}` }));

const deploy = (name: string, namespace: string): JsonObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
});
const secret = (name: string): JsonObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'team' }, stringData: { k: 'v' } });
const pod = (name: string, node: string, secretName: string): JsonObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'team' },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox', env: [{ name: 'P', valueFrom: { secretKeyRef: { name: secretName, key: 'k' } } }] }] },
});

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
let admin: TestApi;
let n1: TestApi;
let bob: TestApi;
let alice: TestApi;

const canI = (api: TestApi, verb: string, resource: string, namespace: string, name = '', group = ''): Promise<boolean> =>
  api.selfSubjectAccessReview({ resourceAttributes: { verb, resource, namespace, name, group, version: '', subresource: '' } }).then((s) => s.allowed);

beforeAll(async () => {
  ts = testStore();
  srv = await startTestServer(ts.store, { tokens: parseTokens(TOKENS), restListen: '127.0.0.1:0' });
  admin = srv.connect('admin-t');
  n1 = srv.connect('n1-t');
  bob = srv.connect('bob-t');
  alice = srv.connect('alice-t');
  await admin.apply({
    documents: json([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'bob-view' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'bob' }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'dev-edit', namespace: 'team' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'Group', name: 'developers' }] },
      secret('db-pass'), secret('other-pass'), deploy('web', 'team'),
    ]),
  });
  await admin.create({ object: res(pod('web-1', 'n1', 'db-pass')) });
  await admin.create({ object: res(pod('web-2', 'n2', 'other-pass')) });
  // The authorizers read informers: wait until they have seen the bindings and the pods.
  await until(() => canI(alice, 'create', 'deployments', 'team', '', 'apps'), 10_000, 'alice\'s RoleBinding in the cache');
  await until(() => canI(bob, 'list', 'pods', ''), 10_000, 'bob\'s ClusterRoleBinding in the cache');
  await until(() => canI(n1, 'get', 'secrets', 'team', 'db-pass'), 10_000, 'web-1 in the node graph');
}, 60_000);

afterAll(async () => {
  await srv?.stop();
  await ts?.close();
});

describe('node restriction', () => {
  it('a node cannot delete a Deployment', async () => {
    const e = await failure(n1.delete({ kind: 'deployments', namespace: 'team', name: 'web' }));
    expect(e.code).toBe('Forbidden');
    expect(e.message).toBe('deployments.apps "web" is forbidden: User "system:node:n1" cannot delete resource "deployments" in API group "apps" in the namespace "team"');
    expect((await admin.get({ kind: 'deployments', namespace: 'team', name: 'web' })).object).toBeDefined();
  });

  it('a node writes the status of its own pods only, never their spec', async () => {
    const mine = unwrapAs('Pod', await n1.get({ kind: 'pods', namespace: 'team', name: 'web-1' }));
    mine.status = { ...mine.status!, phase: 'Running' };
    const saved = unwrapAs('Pod', await n1.update({ object: wrap('Pod', mine), subresource: 'status' }));
    expect(saved.status?.phase).toBe('Running');
    const spec = await failure(n1.update({ object: wrap('Pod', { ...saved, metadata: { ...saved.metadata!, labels: { x: 'y' } } }) }));
    expect(spec.code).toBe('Forbidden');
    const other = unwrapAs('Pod', await admin.get({ kind: 'pods', namespace: 'team', name: 'web-2' }));
    other.status = { ...other.status!, phase: 'Failed' };
    const e = await failure(n1.update({ object: wrap('Pod', other), subresource: 'status' }));
    expect(e.code).toBe('Forbidden');
    expect(e.message).toContain('User "system:node:n1" cannot update resource "pods/status" in API group "" in the namespace "team": node "n1" can only update pods bound to it (this one is bound to "n2")');
    expect((await failure(n1.get({ kind: 'pods', namespace: 'team', name: 'web-2' }))).code).toBe('Forbidden');
  });

  it('a node reads the Secret its pod uses, not one only another node\'s pod uses', async () => {
    expect(unwrapAs('Secret', await n1.get({ kind: 'secrets', namespace: 'team', name: 'db-pass' })).data.k).toBeDefined();
    const e = await failure(n1.get({ kind: 'secrets', namespace: 'team', name: 'other-pass' }));
    expect(e.code).toBe('Forbidden');
    expect(e.message).toContain('no relationship found between node "n1" and this object');
    // The agent's config watch: a list by name across namespaces, pinned by field selector.
    const one = await n1.list({ kind: 'secrets', fieldSelector: 'metadata.namespace=team,metadata.name=db-pass', resourceVersion: '0' });
    expect(one.items).toHaveLength(1);
    expect((await failure(n1.list({ kind: 'secrets', namespace: 'team' }))).code).toBe('Forbidden');
  });

  it('a node lists and watches only its own pods', async () => {
    const own = await n1.list({ kind: 'pods', fieldSelector: 'spec.nodeName=n1', resourceVersion: '0' });
    expect(own.items.map((r) => unwrapAs('Pod', r).metadata?.name)).toEqual(['web-1']);
    expect((await failure(n1.list({ kind: 'pods' }))).code).toBe('Forbidden');
    const w = collect(n1.watch({ kind: 'pods' }));
    await until(() => w.error() !== undefined, 10_000, 'watch refusal');
    expect((w.error() as ApiError).code).toBe('Forbidden');
    const ok = collect(n1.watch({ kind: 'pods', fieldSelector: 'spec.nodeName=n1' }));
    await until(() => ok.events.some((e: WatchEvent) => e.type === 'ADDED'), 10_000, 'own pods watched');
    ok.stop();
  });

  it('a node registers and renews only its own Node and Lease', async () => {
    const node = (name: string) => res({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
    await n1.create({ object: node('n1') });
    expect((await failure(n1.create({ object: node('n2') }))).code).toBe('Forbidden');
    const lease = (name: string) => res({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name } });
    await n1.create({ object: lease('n1') });
    expect((await failure(n1.create({ object: lease('n2') }))).code).toBe('Forbidden');
  });
});

describe('RBAC', () => {
  it('a view user reads but cannot apply, and never reads Secrets', async () => {
    expect((await bob.list({ kind: 'pods', namespace: 'team' })).items).toHaveLength(2);
    const e = await failure(bob.apply({ documents: json([deploy('bobs', 'team')]) }));
    expect(e.code).toBe('Forbidden');
    expect(e.message).toBe('deployments.apps is forbidden: User "bob" cannot create resource "deployments" in API group "apps" in the namespace "team"');
    expect((await failure(bob.get({ kind: 'secrets', namespace: 'team', name: 'db-pass' }))).code).toBe('Forbidden');
    expect((await failure(bob.list({ kind: 'secrets' }))).code).toBe('Forbidden');
  });

  it('an edit user applies in the namespace of its RoleBinding only', async () => {
    const r = await alice.apply({ documents: json([deploy('alices', 'team')]) });
    expect(r.results[0]?.action).toBe('created');
    // An update of an existing object is a patch.
    const again = await alice.apply({ documents: json([{ ...deploy('alices', 'team'), metadata: { name: 'alices', namespace: 'team', labels: { v: '2' } } }]) });
    expect(again.results[0]?.action).toBe('configured');
    expect((await failure(alice.apply({ documents: json([deploy('alices', 'default')]) }))).code).toBe('Forbidden');
    // Nothing of a refused apply is written, even documents it was allowed.
    expect((await failure(alice.apply({ documents: json([deploy('two', 'team'), deploy('two', 'default')]) }))).code).toBe('Forbidden');
    expect((await failure(admin.get({ kind: 'deployments', namespace: 'team', name: 'two' }))).code).toBe('NotFound');
  });

  it('a binding or pod written just before is honoured at once (a refusal waits for the caches to catch up)', async () => {
    const carol = srv.connect('carol-t');
    await admin.apply({
      documents: json([{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'carol-view', namespace: 'team' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'carol' }] }]),
    });
    expect((await carol.list({ kind: 'pods', namespace: 'team' })).items.length).toBeGreaterThan(0);
    await admin.apply({ documents: json([secret('fresh-pass')]) });
    await admin.create({ object: res(pod('web-3', 'n1', 'fresh-pass')) });
    expect(unwrapAs('Secret', await n1.get({ kind: 'secrets', namespace: 'team', name: 'fresh-pass' })).metadata?.name).toBe('fresh-pass');
  });

  it('an unknown token is Unauthorized', async () => {
    expect((await failure(srv.connect('nope').list({ kind: 'pods' }))).code).toBe('Unauthorized');
  });

  it('can-i answers as the calls do', async () => {
    expect(await canI(alice, 'create', 'deployments', 'team', '', 'apps')).toBe(true);
    expect(await canI(alice, 'create', 'deployments', 'default', '', 'apps')).toBe(false);
    expect(await canI(bob, 'get', 'secrets', 'team', 'db-pass')).toBe(false);
    expect(await canI(bob, 'list', 'deployments', '', '', 'apps')).toBe(true);
    expect(await canI(n1, 'get', 'secrets', 'team', 'other-pass')).toBe(false);
    expect(await canI(admin, 'delete', 'nodes', '', 'n1')).toBe(true);
  });

  it('whoami names the caller; only cluster-admin may impersonate', async () => {
    expect(await n1.whoAmI()).toEqual({ username: 'system:node:n1', uid: '', groups: ['system:nodes', 'system:authenticated'] });
    const asAlice = srv.connect('admin-t');
    asAlice.md.set('impersonate-user', 'alice');
    asAlice.md.set('impersonate-group', 'developers');
    expect((await asAlice.whoAmI()).username).toBe('alice');
    expect(await canI(asAlice, 'create', 'deployments', 'default', '', 'apps')).toBe(false);
    const bobAsAdmin = srv.connect('bob-t');
    bobAsAdmin.md.set('impersonate-user', 'admin');
    const e = await failure(bobAsAdmin.whoAmI());
    expect(e.code).toBe('Forbidden');
    expect(e.message).toBe('users "admin" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope');
  });

  it('built-in roles are kept at start; user rules added to them stay', async () => {
    const view = unwrapAs('ClusterRole', await admin.get({ kind: 'clusterroles', name: 'view' }));
    expect(view.rules.some((r) => r.resources.includes('secrets'))).toBe(false);
    view.rules.push({ verbs: ['get'], apiGroups: [''], resources: ['nodes'], resourceNames: [], nonResourceURLs: [] });
    await admin.update({ object: wrap('ClusterRole', view) });
    const second = await startTestServer(ts.store, { tokens: parseTokens(TOKENS) });
    try {
      const after = unwrapAs('ClusterRole', await admin.get({ kind: 'clusterroles', name: 'view' }));
      expect(after.rules.some((r) => r.resources.includes('nodes') && r.apiGroups.includes(''))).toBe(true);
      expect(after.rules.length).toBe(view.rules.length);
    } finally {
      await second.stop();
    }
  });
});

describe('REST', () => {
  const rest = (path: string, token: string, init: HttpsInit = {}) =>
    httpsFetch(`https://127.0.0.1:${srv.server.restPort}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });

  it('refuses with a 403 Status with reason Forbidden', async () => {
    const r = await rest('/apis/apps/v1/namespaces/team/deployments/web', 'n1-t', { method: 'DELETE' });
    expect(r.status).toBe(403);
    expect(await r.json()).toMatchObject({
      kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403,
      message: 'deployments.apps "web" is forbidden: User "system:node:n1" cannot delete resource "deployments" in API group "apps" in the namespace "team"',
      details: { name: 'web', group: 'apps', kind: 'deployments' },
    });
    expect((await rest('/api/v1/namespaces/team/secrets', 'bob-t')).status).toBe(403);
    expect((await rest('/api/v1/namespaces/team/pods', 'bob-t')).status).toBe(200);
  });

  it('answers SelfSubjectAccessReview and SelfSubjectReview as kubectl asks them', async () => {
    const review = (verb: string, resource: string, namespace: string) => rest('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', 'alice-t', {
      method: 'POST',
      body: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb, group: 'apps', resource, namespace } } }),
    }).then(async (r) => ({ code: r.status, body: (await r.json()) as { status: { allowed: boolean } } }));
    const yes = await review('create', 'deployments', 'team');
    expect(yes.code).toBe(201);
    expect(yes.body.status.allowed).toBe(true);
    expect((await review('create', 'deployments', 'default')).body.status.allowed).toBe(false);
    const who = await rest('/apis/authentication.k8s.io/v1/selfsubjectreviews', 'alice-t', { method: 'POST', body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }) });
    expect(await who.json()).toMatchObject({ status: { userInfo: { username: 'alice', groups: ['developers', 'system:authenticated'] } } });
  });
});
