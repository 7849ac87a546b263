// @kubernetes/client-node, unmodified, against the REST API of a real control plane on real
// etcd: list with paging, watch and resume, create, patch in each content type, delete; every
// step checked through Skiff's own gRPC API as well.
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, Watch, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isApiError } from '../../proto/api/errors.js';
import { unwrapAs } from '../../proto/api/kinds.js';
import { startRestCluster, type RestCluster } from '../../test/helpers/rest-cluster.js';
import { until } from '../../test/helpers/wait.js';

let c: RestCluster;
let apps: AppsV1Api;
let core: CoreV1Api;
let kc: KubeConfig;

const ns = 'default';

/** What client-node throws for a non-2xx answer. */
interface HttpFailure {
  code?: number;
  body?: string;
}

const noFailure = (): HttpFailure => ({});
const asFailure = (e: unknown): HttpFailure => e as HttpFailure;

const deploymentBody = (name: string): V1Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels: { suite: 'client-node' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'app', image: 'skiff/hello:1', env: [{ name: 'A', value: '1' }] }] },
    },
  },
});

async function skiffDeployment(name: string) {
  return unwrapAs('Deployment', await c.server.api.get({ kind: 'Deployment', namespace: ns, name }));
}

beforeAll(async () => {
  c = await startRestCluster({ agent: false });
  kc = new KubeConfig();
  kc.loadFromFile(c.kubeconfig);
  apps = kc.makeApiClient(AppsV1Api);
  core = kc.makeApiClient(CoreV1Api);
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

describe('@kubernetes/client-node against the REST API', () => {
  it('creates and lists in pages', async () => {
    for (const n of ['a1', 'a2', 'a3']) {
      const made = await apps.createNamespacedDeployment({ namespace: ns, body: deploymentBody(n) });
      expect(made.metadata?.uid).toBeTruthy();
      expect((await skiffDeployment(n)).metadata?.uid).toBe(made.metadata?.uid);
    }
    const first = await apps.listNamespacedDeployment({ namespace: ns, labelSelector: 'suite=client-node', limit: 2 });
    expect(first.items.map((d) => d.metadata?.name)).toEqual(['a1', 'a2']);
    expect(first.metadata?._continue).toBeTruthy();
    const second = await apps.listNamespacedDeployment({ namespace: ns, labelSelector: 'suite=client-node', limit: 2, _continue: first.metadata?._continue });
    expect(second.items.map((d) => d.metadata?.name)).toEqual(['a3']);
    expect(second.metadata?._continue).toBeFalsy();
    const byName = await apps.listNamespacedDeployment({ namespace: ns, fieldSelector: 'metadata.name=a2' });
    expect(byName.items.map((d) => d.metadata?.name)).toEqual(['a2']);
    const err = await apps.createNamespacedDeployment({ namespace: ns, body: deploymentBody('a1') }).then(noFailure, asFailure);
    expect(err.code).toBe(409);
    expect(JSON.parse(err.body ?? '{}')).toMatchObject({ kind: 'Status', reason: 'AlreadyExists', code: 409 });
  });

  it('patches with JSON patch, merge patch and strategic merge patch', async () => {
    await apps.patchNamespacedDeployment(
      { namespace: ns, name: 'a1', body: [{ op: 'replace', path: '/spec/replicas', value: 4 }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect((await skiffDeployment('a1')).spec?.replicas).toBe(4);
    await apps.patchNamespacedDeployment(
      { namespace: ns, name: 'a1', body: { metadata: { labels: { tier: 'web' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect((await skiffDeployment('a1')).metadata?.labels).toEqual({ suite: 'client-node', tier: 'web' });
    // Strategic: the container list is merged by name and env by name, not replaced.
    await apps.patchNamespacedDeployment(
      { namespace: ns, name: 'a1', body: { spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'B', value: '2' }] }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const c0 = (await skiffDeployment('a1')).spec?.template?.spec?.containers[0];
    expect(c0?.image).toBe('skiff/hello:1');
    expect(c0?.env.map((e) => e.name)).toEqual(['A', 'B']);
    const scale = await apps.readNamespacedDeploymentScale({ namespace: ns, name: 'a1' });
    expect(scale.spec?.replicas).toBe(4);
    await apps.replaceNamespacedDeploymentScale({ namespace: ns, name: 'a1', body: { ...scale, metadata: { ...scale.metadata, resourceVersion: undefined }, spec: { replicas: 2 } } });
    // With the resourceVersion it read, a scale that raced another writer is a Conflict, as in Kubernetes.
    const stale = await apps.replaceNamespacedDeploymentScale({ namespace: ns, name: 'a1', body: { ...scale, spec: { replicas: 5 } } })
      .then(noFailure, asFailure);
    expect(stale.code).toBe(409);
    expect((await skiffDeployment('a1')).spec?.replicas).toBe(2);
    const invalid = await apps.patchNamespacedDeployment(
      { namespace: ns, name: 'a1', body: { spec: { replicas: -3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ).then(noFailure, asFailure);
    expect(invalid.code).toBe(422);
    const status = JSON.parse(invalid.body ?? '{}') as { reason: string; details: { causes: { field: string }[] } };
    expect(status.reason).toBe('Invalid');
    expect(status.details.causes.map((x) => x.field)).toContain('spec.replicas');
  });

  it('watches, resumes from a resourceVersion, and gets 410 Expired when too old', async () => {
    const list = await apps.listNamespacedDeployment({ namespace: ns });
    const rv = list.metadata?.resourceVersion ?? '';
    const seen: { type: string; name: string; rv: string }[] = [];
    const watch = new Watch(kc);
    const ctl = await watch.watch(`/apis/apps/v1/namespaces/${ns}/deployments`, { resourceVersion: rv }, (type, obj: V1Deployment) => {
      seen.push({ type, name: obj.metadata?.name ?? '', rv: obj.metadata?.resourceVersion ?? '' });
    }, () => undefined);
    await apps.patchNamespacedDeployment(
      { namespace: ns, name: 'a2', body: { metadata: { labels: { step: 'one' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await until(() => seen.some((e) => e.type === 'MODIFIED' && e.name === 'a2'), 10_000);
    ctl.abort();
    const last = seen[seen.length - 1]!.rv;
    // Changes while nobody watches arrive on a watch resumed from the last resourceVersion seen.
    await apps.deleteNamespacedDeployment({ namespace: ns, name: 'a3' });
    const resumed: { type: string; name: string }[] = [];
    const ctl2 = await watch.watch(`/apis/apps/v1/namespaces/${ns}/deployments`, { resourceVersion: last }, (type, obj: V1Deployment) => {
      resumed.push({ type, name: obj.metadata?.name ?? '' });
    }, () => undefined);
    await until(() => resumed.some((e) => e.type === 'DELETED' && e.name === 'a3'), 10_000);
    ctl2.abort();
    expect(resumed.some((e) => e.name === 'a2' && e.type === 'MODIFIED')).toBe(false);
    const gone = await c.server.api.get({ kind: 'Deployment', namespace: ns, name: 'a3' }).catch((e: unknown) => e);
    expect(isApiError(gone, 'NotFound')).toBe(true);

    const errorsSeen: { code?: number; reason?: string }[] = [];
    const ctl3 = await watch.watch(`/apis/apps/v1/namespaces/${ns}/deployments`, { resourceVersion: '1' }, (type, obj: { code?: number; reason?: string }) => {
      if (type === 'ERROR') errorsSeen.push(obj);
    }, () => undefined);
    await until(() => errorsSeen.length > 0, 10_000);
    ctl3.abort();
    expect(errorsSeen[0]).toMatchObject({ code: 410, reason: 'Expired' });
  });

  it('reads discovery and deletes', async () => {
    const resources = await core.getAPIResources();
    const pods = resources.resources.find((r) => r.name === 'pods');
    expect(pods).toMatchObject({ kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'] });
    expect(resources.resources.map((r) => r.name)).toEqual(expect.arrayContaining(['pods/status', 'pods/log', 'pods/eviction']));
    const status = await apps.deleteNamespacedDeployment({ namespace: ns, name: 'a1', propagationPolicy: 'Foreground' });
    expect(status).toBeTruthy();
    await until(async () => {
      const e = await c.server.api.get({ kind: 'Deployment', namespace: ns, name: 'a1' }).then(() => undefined, (x: unknown) => x);
      return isApiError(e, 'NotFound');
    }, 20_000);
  });
});
