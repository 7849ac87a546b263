// Services through the real API server on real etcd: allocation on create, update and apply,
// the Invalid errors for chosen values, release on delete, and that concurrent creates through
// two API server processes' worth of stores never share an IP or a port.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../proto/api/errors.js';
import { unwrapAs, wrap } from '../../proto/api/kinds.js';
import { fromManifest, type JsonObject } from '../../proto/api/manifest.js';
import type { Service } from '../../proto/gen/skiff/v1/core.js';
import { sharedEndpoints, testStore, type TestStore } from '../../test/helpers/etcd-client.js';
import { SERVICE_IPS, SERVICE_NODE_PORTS } from '../storage/reservations.js';
import { parseIpRange, parsePortRange, type ServiceRanges } from './allocation/ranges.js';
import { startTestServer, type TestServer } from './testing.js';

const svcDoc = (name: string, spec: JsonObject = {}): JsonObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 'http' }], ...spec },
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
  throw new Error('expected a failure');
}

const ranges: ServiceRanges = { clusterIPs: parseIpRange('10.96.0.0/24'), nodePorts: parsePortRange('30000-30099') };

let t: TestStore;
let s: TestServer;
beforeEach(async () => {
  t = testStore();
  s = await startTestServer(t.store, { serviceRanges: ranges });
});
afterEach(async () => {
  await s.stop();
  await t.close();
});

const create = async (doc: JsonObject): Promise<Service> => unwrapAs('Service', await s.api.create({ object: resourceOf(doc) }));

describe('Service API', () => {
  it('defaults and allocates a ClusterIP from the range; headless gets none', async () => {
    const svc = await create(svcDoc('web'));
    expect(svc.spec).toMatchObject({
      type: 'ClusterIP', sessionAffinity: 'None', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster',
    });
    expect(svc.spec?.clusterIP).toMatch(/^10\.96\.0\.\d+$/);
    expect(svc.spec?.clusterIPs).toEqual([svc.spec?.clusterIP]);
    expect(svc.spec?.ports[0]).toMatchObject({ protocol: 'TCP', port: 80, targetPort: { type: 1, strVal: 'http' }, nodePort: 0 });
    const headless = await create(svcDoc('db', { clusterIP: 'None' }));
    expect(headless.spec?.clusterIP).toBe('None');
    expect(await t.store.reserved(SERVICE_IPS)).toEqual([svc.spec?.clusterIP]);
  });

  it('LoadBalancer: a node port like NodePort, Cluster traffic policy; headless refused', async () => {
    const svc = await create(svcDoc('lb', { type: 'LoadBalancer', ports: [{ port: 18080, targetPort: 5000 }] }));
    expect(svc.spec).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' });
    expect(svc.spec?.ports[0]?.nodePort).toBeGreaterThanOrEqual(30000);
    const e = await failure(create(svcDoc('lb2', { type: 'LoadBalancer', clusterIP: 'None' })));
    expect(e.causes.map((c) => c.field)).toContain('spec.clusterIP');
    const back = unwrapAs('Service', await s.api.apply({ documents: [{ manifest: JSON.stringify(svcDoc('lb', { type: 'LoadBalancer', ports: [{ port: 18080, targetPort: 5000 }] })), source: 't' }], dryRun: false, fieldManager: 't' }).then((r) => r.results[0]!.object));
    expect(back.spec?.ports[0]?.nodePort).toBe(svc.spec?.ports[0]?.nodePort);
  });

  it('refuses a chosen IP or node port that is taken or out of range, naming the field, and frees them on delete', async () => {
    await create(svcDoc('a', { clusterIP: '10.96.0.10', type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }));
    const e = await failure(create(svcDoc('b', { clusterIP: '10.96.0.10', type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })));
    expect(e.code).toBe('Invalid');
    expect(e.causes.map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.clusterIP: Invalid value: "10.96.0.10": provided IP is already allocated',
      'spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
    ]);
    const out = await failure(create(svcDoc('c', { clusterIP: '10.97.0.1' })));
    expect(out.causes[0]?.message).toBe('Invalid value: "10.97.0.1": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/24');
    const forbidden = await failure(create(svcDoc('d', { ports: [{ port: 80, nodePort: 30081 }] })));
    expect(forbidden.causes[0]?.field).toBe('spec.ports[0].nodePort');
    await s.api.delete({ kind: 'svc', namespace: 'default', name: 'a' });
    expect(await t.store.reserved(SERVICE_IPS)).toEqual([]);
    expect(await t.store.reserved(SERVICE_NODE_PORTS)).toEqual([]);
    const b = await create(svcDoc('b', { clusterIP: '10.96.0.10', type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }));
    expect(b.spec?.ports[0]?.nodePort).toBe(30080);
  });

  it('keeps clusterIP immutable, keeps node ports across apply, allocates on a type change and releases on the way back', async () => {
    const first = await s.api.apply({ documents: [{ manifest: JSON.stringify(svcDoc('web', { type: 'NodePort' })), source: 'web.yaml' }] });
    const created = unwrapAs('Service', first.results[0]!.object);
    const nodePort = created.spec!.ports[0]!.nodePort;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    const again = await s.api.apply({ documents: [{ manifest: JSON.stringify(svcDoc('web', { type: 'NodePort' })), source: 'web.yaml' }] });
    expect(again.results[0]!.action).toBe('unchanged');
    const moved = await failure(s.api.patch({ kind: 'svc', name: 'web', patch: JSON.stringify({ spec: { clusterIP: '10.96.0.99', clusterIPs: ['10.96.0.99'] } }) }));
    expect(moved.causes.map((c) => c.field)).toContain('spec.clusterIP');
    const back = await s.api.apply({ documents: [{ manifest: JSON.stringify(svcDoc('web')), source: 'web.yaml' }] });
    const asClusterIP = unwrapAs('Service', back.results[0]!.object);
    expect(asClusterIP.spec?.type).toBe('ClusterIP');
    expect(asClusterIP.spec?.ports[0]?.nodePort).toBe(0);
    expect(asClusterIP.spec?.clusterIP).toBe(created.spec?.clusterIP);
    expect(await t.store.reserved(SERVICE_NODE_PORTS)).toEqual([]);
    const patched = unwrapAs('Service', await s.api.patch({ kind: 'svc', name: 'web', patch: JSON.stringify({ spec: { type: 'NodePort' } }) }));
    expect(patched.spec?.ports[0]?.nodePort).toBeGreaterThanOrEqual(30000);
    expect(await t.store.reserved(SERVICE_NODE_PORTS)).toEqual([String(patched.spec?.ports[0]?.nodePort)]);
  });

  it('applies several services in one file without giving two of them one value', async () => {
    const docs = Array.from({ length: 20 }, (_, i) => ({ manifest: JSON.stringify(svcDoc(`s${i}`, { type: 'NodePort' })), source: `f.yaml#${i + 1}` }));
    const res = await s.api.apply({ documents: docs });
    const svcs = res.results.map((r) => unwrapAs('Service', r.object));
    expect(new Set(svcs.map((x) => x.spec?.clusterIP)).size).toBe(20);
    expect(new Set(svcs.map((x) => x.spec?.ports[0]?.nodePort)).size).toBe(20);
    expect((await t.store.reserved(SERVICE_IPS)).length).toBe(20);
  });

  it('never gives one IP or port to two services when two API servers create concurrently', async () => {
    // A second server process on the same etcd prefix (its own Store, informers and batcher).
    const other = testStore(sharedEndpoints(), t.prefix);
    const s2 = await startTestServer(other.store, { serviceRanges: { clusterIPs: parseIpRange('10.96.0.0/26'), nodePorts: parsePortRange('30000-30061') } });
    const tight = { clusterIPs: parseIpRange('10.96.0.0/26'), nodePorts: parsePortRange('30000-30061') };
    await s.stop();
    s = await startTestServer(t.store, { serviceRanges: tight });
    try {
      const n = 60; // of 62 addresses and 62 ports: collisions are all but certain without the guards
      const results = await Promise.allSettled(
        Array.from({ length: n }, (_, i) =>
          (i % 2 ? s2.api : s.api).create({ object: resourceOf(svcDoc(`c${i}`, { type: 'NodePort' })) })),
      );
      const failed = results.filter((r) => r.status === 'rejected');
      expect(failed).toEqual([]);
      const list = (await s.api.list({ kind: 'Service', namespace: 'default' })).items.map((r) => unwrapAs('Service', r));
      expect(list.length).toBe(n);
      expect(new Set(list.map((x) => x.spec?.clusterIP)).size).toBe(n);
      expect(new Set(list.map((x) => x.spec?.ports[0]?.nodePort)).size).toBe(n);
      expect((await t.store.reserved(SERVICE_IPS)).sort()).toEqual(list.map((x) => x.spec!.clusterIP).sort());
    } finally {
      await s2.stop();
      other.client.close();
    }
  });
});
