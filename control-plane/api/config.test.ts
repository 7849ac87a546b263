// ConfigMaps and Secrets through the API server on a real etcd, with encryption at rest: served,
// listed and watched like any kind; stringData merged into data; immutable refused; apply and
// the watch see plaintext objects while etcd holds ciphertext.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../proto/api/errors.js';
import { unwrapAs, wrap } from '../../proto/api/kinds.js';
import { fromManifest, type JsonObject } from '../../proto/api/manifest.js';
import { testStore, type TestStore } from '../../test/helpers/etcd-client.js';
import { until } from '../../test/helpers/wait.js';
import { Store } from '../storage/store.js';
import { AesGcmTransformer } from '../storage/encryption.js';
import { collect, startTestServer, type TestServer } from './testing.js';

let ts: TestStore;
let srv: TestServer;
beforeAll(async () => {
  ts = testStore();
  const store = new Store(ts.client, { prefix: ts.prefix, encryption: new AesGcmTransformer([{ name: 'k1', secret: randomBytes(32) }]) });
  srv = await startTestServer(store);
});
afterAll(async () => {
  await srv.stop();
  await ts.close();
});

const res = (doc: JsonObject) => {
  const { info, object } = fromManifest(doc);
  return wrap(info.kind, object);
};

describe('ConfigMap and Secret over the API', () => {
  it('creates, lists by short name, watches, and keeps Secrets encrypted in etcd', async () => {
    const w = collect(srv.api.watch({ kind: 'secrets', namespace: 'default' }));
    try {
      await srv.api.create({ object: res({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app' }, data: { a: '1' } }) });
      const created = unwrapAs('Secret', await srv.api.create({
        object: res({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: 'plain-pw-123' } }),
      }));
      expect(created.type).toBe('Opaque');
      expect(created.stringData).toEqual({});
      expect(Buffer.from(created.data.password!).toString()).toBe('plain-pw-123');
      expect((await srv.api.list({ kind: 'cm', namespace: 'default' })).items).toHaveLength(1);
      // resourceVersion 0 is the cache, which catches up through the (decrypting) watch.
      const cached = async () => (await srv.api.list({ kind: 'secret', namespace: 'default', resourceVersion: '0' })).items.map((r) => unwrapAs('Secret', r));
      await until(async () => (await cached()).length === 1, 5000, 'cache has the Secret');
      expect((await cached()).map((s) => Buffer.from(s.data.password!).toString())).toEqual(['plain-pw-123']);
      await until(() => w.events.some((e) => e.type === 'ADDED'), 5000, 'watch ADDED');
      expect(Buffer.from(unwrapAs('Secret', w.events.find((e) => e.type === 'ADDED')!.object).data.password!).toString()).toBe('plain-pw-123');
      const raw = await ts.client.get(`${ts.prefix}/registry/secrets/default/db`).buffer();
      expect(raw?.includes(Buffer.from('plain-pw-123'))).toBe(false);
      expect(raw?.subarray(0, 21).toString()).toBe('k8s:enc:aesgcm:v1:k1:');
    } finally {
      w.stop();
    }
  });

  it('apply is idempotent with stringData, and immutable objects refuse data changes', async () => {
    const doc = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'imm' }, stringData: { k: 'v' }, immutable: true };
    const first = await srv.api.apply({ documents: [{ manifest: JSON.stringify(doc), source: 'imm.yaml#1' }] });
    expect(first.results[0]?.action).toBe('created');
    const again = await srv.api.apply({ documents: [{ manifest: JSON.stringify(doc), source: 'imm.yaml#1' }] });
    expect(again.results[0]?.action).toBe('unchanged');
    const err = await srv.api.apply({ documents: [{ manifest: JSON.stringify({ ...doc, stringData: { k: 'changed' } }), source: 'imm.yaml#1' }] }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).causes.map((c) => `${c.field}: ${c.message}`)).toEqual(['data: field is immutable when `immutable` is set']);
  });
});
