// Secrets at rest on a real etcd: what etcd holds is the aesgcm envelope (no plaintext), while
// get, list, watch and the informer see the decrypted object; rotating keys keeps it readable.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Secret } from '../../proto/gen/skiff/v1/config.js';
import { emptyMeta } from '../../proto/api/kinds.js';
import { newEtcdClient } from './etcd-client.js';
import { sharedEndpoints, uniquePrefix } from '../../test/helpers/etcd-client.js';
import { until } from '../../test/helpers/wait.js';
import { AesGcmTransformer, parseEnvelope, type EncryptionKey } from './encryption.js';
import { Informer } from './informer.js';
import { Store } from './store.js';

const PLAINTEXT = `very-secret-${randomBytes(4).toString('hex')}`;
const client = newEtcdClient(sharedEndpoints());
const prefix = uniquePrefix();
afterEach(async () => {
  await client.delete().prefix(`${prefix}/`).exec();
});

const key = (name: string): EncryptionKey => ({ name, secret: randomBytes(32) });
const storeWith = (...keys: EncryptionKey[]): Store => new Store(client, { prefix, encryption: keys.length ? new AesGcmTransformer(keys) : undefined });

function secret(name: string): Secret {
  return {
    apiVersion: 'v1', kind: 'Secret', metadata: { ...emptyMeta(), name, namespace: 'default' },
    data: { password: Buffer.from(PLAINTEXT) }, stringData: {}, type: 'Opaque', immutable: undefined,
  };
}

async function raw(name: string): Promise<Buffer> {
  const v = await client.get(`${prefix}/registry/secrets/default/${name}`).buffer();
  if (!v) throw new Error(`no value for ${name}`);
  return v;
}

describe('Secrets encrypted at rest', () => {
  it('etcd holds no plaintext; get, list, watch and the informer see the decrypted Secret', async () => {
    const k1 = key('k1');
    const store = storeWith(k1);
    const inf = new Informer(store, 'Secret');
    await inf.start();
    try {
      await store.create('Secret', secret('db'));
      const stored = await raw('db');
      expect(stored.includes(Buffer.from(PLAINTEXT))).toBe(false);
      expect(stored.includes(Buffer.from('password'))).toBe(false);
      expect(parseEnvelope(stored).name).toBe('k1');
      expect(Buffer.from((await store.get('Secret', 'default', 'db')).data.password!).toString()).toBe(PLAINTEXT);
      expect((await store.list('Secret')).items.map((s) => Buffer.from(s.data.password!).toString())).toEqual([PLAINTEXT]);
      await until(() => inf.get('default/db') !== undefined);
      expect(Buffer.from(inf.get('default/db')!.data.password!).toString()).toBe(PLAINTEXT);
      expect(stored.subarray(0, 8).toString()).toBe('k8s:enc:');
    } finally {
      await inf.stop();
    }
  });

  it('rotation: new key first, re-write, old key removed: everything still readable', async () => {
    const k1 = key('k1');
    const k2 = key('k2');
    await storeWith().create('Secret', secret('plain'));
    await storeWith(k1).create('Secret', secret('old'));
    expect(parseEnvelope(await raw('plain')).name).toBeUndefined();

    const rotating = storeWith(k2, k1);
    expect(Buffer.from((await rotating.get('Secret', 'default', 'old')).data.password!).toString()).toBe(PLAINTEXT);
    // An update that changes nothing still re-writes a value under an older key.
    const cur = await rotating.get('Secret', 'default', 'old');
    const before = cur.metadata?.resourceVersion;
    const saved = await rotating.update('Secret', cur);
    expect(Number(saved.metadata?.resourceVersion)).toBeGreaterThan(Number(before));
    expect(parseEnvelope(await raw('old')).name).toBe('k2');
    // What is left (the plaintext one) is re-written by rewriteStale, as the control plane does at start.
    expect(await rotating.rewriteStale('Secret')).toBe(1);
    expect(await rotating.rewriteStale('Secret')).toBe(0);
    expect(parseEnvelope(await raw('plain')).name).toBe('k2');

    const onlyNew = storeWith(k2);
    const all = (await onlyNew.list('Secret')).items;
    expect(all.map((s) => [s.metadata?.name, Buffer.from(s.data.password!).toString()])).toEqual([['old', PLAINTEXT], ['plain', PLAINTEXT]]);
    // An unchanged update under the current key writes nothing.
    const o = await onlyNew.get('Secret', 'default', 'old');
    const rv = o.metadata?.resourceVersion;
    expect((await onlyNew.update('Secret', o)).metadata?.resourceVersion).toBe(rv);
    // Without the key it was written with, a read fails naming the key.
    await expect(storeWith(key('k3')).get('Secret', 'default', 'old')).rejects.toThrow(/encrypted with key "k2"/);
  });
});
