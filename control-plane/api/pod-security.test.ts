// Pod Security Admission through the API server on real etcd: create, apply (with the namespace
// in the same batch), update of a template, and a status update of a pod admitted earlier.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../proto/api/errors.js';
import { wrap } from '../../proto/api/kinds.js';
import { fromManifest, type JsonObject } from '../../proto/api/manifest.js';
import { testStore, type TestStore } from '../../test/helpers/etcd-client.js';
import { startTestServer, type TestServer } from './testing.js';
import { ENFORCE_LABEL } from './validation/pod-security.js';

let ts: TestStore;
let srv: TestServer;
const suffix = randomBytes(3).toString('hex');

beforeAll(async () => {
  ts = testStore();
  srv = await startTestServer(ts.store);
});
afterAll(async () => {
  await srv.stop();
  await ts.close();
});

const resourceOf = (doc: JsonObject) => {
  const { info, object } = fromManifest(doc);
  return wrap(info.kind, object);
};
const namespaceDoc = (name: string, level?: string): JsonObject =>
  ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(level ? { labels: { [ENFORCE_LABEL]: level } } : {}) } });
const privilegedPod = (name: string, namespace: string): JsonObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace },
  spec: { containers: [{ name: 'app', image: 'web:1', securityContext: { privileged: true } }] },
});
const deploymentDoc = (name: string, namespace: string, hostNetwork: boolean): JsonObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { hostNetwork, containers: [{ name: 'app', image: 'web:1' }] } },
  },
});

async function refused(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (e instanceof ApiError) return e;
  throw new Error(`expected an ApiError, got ${String(e)}`);
}

describe('pod security admission', () => {
  it('a namespace without the label is baseline: a privileged pod is Invalid naming the field', async () => {
    const ns = `psa-base-${suffix}`;
    await srv.api.create({ object: resourceOf(namespaceDoc(ns)) });
    const e = await refused(srv.api.create({ object: resourceOf(privilegedPod('p', ns)) }));
    expect(e.code).toBe('Invalid');
    expect(e.causes.map((c) => `${c.field}: ${c.message}`)).toEqual([
      `spec.containers[0].securityContext.privileged: Forbidden: privileged containers are not allowed by the "baseline" pod security level of namespace "${ns}"`,
    ]);
    // "default" is baseline too.
    expect((await refused(srv.api.create({ object: resourceOf(privilegedPod('p', 'default')) }))).code).toBe('Invalid');
  });

  it('a privileged namespace takes the pod; apply judges pods by the labels of a namespace in the same batch', async () => {
    const ns = `psa-priv-${suffix}`;
    await srv.api.create({ object: resourceOf(namespaceDoc(ns, 'privileged')) });
    await srv.api.create({ object: resourceOf(privilegedPod('p', ns)) });

    const fresh = `psa-apply-${suffix}`;
    const docs = (level?: string) => [namespaceDoc(fresh, level), privilegedPod('p', fresh)].map((d, i) => ({ manifest: JSON.stringify(d), source: `app.yaml#${i + 1}` }));
    const e = await refused(srv.api.apply({ documents: docs() }));
    expect(e.causes[0]).toMatchObject({ field: 'spec.containers[0].securityContext.privileged', source: 'app.yaml#2' });
    const ok = await srv.api.apply({ documents: docs('privileged') });
    expect(ok.results.map((r) => r.action)).toEqual(['created', 'created']);
  });

  it('refuses a workload template that breaks the level, on create and on update', async () => {
    const ns = `psa-tmpl-${suffix}`;
    await srv.api.create({ object: resourceOf(namespaceDoc(ns)) });
    const e = await refused(srv.api.create({ object: resourceOf(deploymentDoc('host', ns, true)) }));
    expect(e.causes.map((c) => c.field)).toEqual(['spec.template.spec.hostNetwork']);
    await srv.api.create({ object: resourceOf(deploymentDoc('web', ns, false)) });
    const u = await refused(srv.api.patch({ kind: 'Deployment', namespace: ns, name: 'web', patch: JSON.stringify({ spec: { template: { spec: { hostNetwork: true } } } }) }));
    expect(u.causes.map((c) => c.field)).toEqual(['spec.template.spec.hostNetwork']);
  });

  it('a pod admitted before its namespace was tightened still takes status updates, not spec changes', async () => {
    const ns = `psa-tight-${suffix}`;
    await srv.api.create({ object: resourceOf(namespaceDoc(ns, 'privileged')) });
    await srv.api.create({ object: resourceOf(privilegedPod('p', ns)) });
    await srv.api.patch({ kind: 'Namespace', name: ns, patch: JSON.stringify({ metadata: { labels: { [ENFORCE_LABEL]: 'baseline' } } }) });
    await srv.api.patch({ kind: 'Pod', namespace: ns, name: 'p', subresource: 'status', patch: JSON.stringify({ status: { phase: 'Running' } }) });
    await srv.api.patch({ kind: 'Pod', namespace: ns, name: 'p', patch: JSON.stringify({ metadata: { labels: { a: 'b' } } }) });
    const e = await refused(srv.api.patch({ kind: 'Pod', namespace: ns, name: 'p', patchType: 'strategic', patch: JSON.stringify({ spec: { containers: [{ name: 'app', image: 'web:2' }] } }) }));
    expect(e.causes.map((c) => c.field)).toEqual(['spec.containers[0].securityContext.privileged']);
  });
});
