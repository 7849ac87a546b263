// The CLI given two control planes: it answers through the first, and when that one dies
// between two commands (or under one), the next calls go to the other without an error.
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../control-plane/api/testing.js';
import { metaOf, unwrap, wrap } from '../proto/api/kinds.js';
import { fromManifest } from '../proto/api/manifest.js';
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import { testStore, type TestStore } from '../test/helpers/etcd-client.js';
import { Api, grpcTarget } from './client.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('CLI failover', () => {
  it('turns a list of control planes into one target, and refuses a list it cannot dial', () => {
    expect(grpcTarget('http://10.0.0.1:6443')).toBe('10.0.0.1:6443');
    expect(grpcTarget('10.0.0.1:6443, 10.0.0.2:6443')).toBe('ipv4:10.0.0.1:6443,10.0.0.2:6443');
    expect(grpcTarget('[fd00::1]:6443,[fd00::2]:6443')).toBe('ipv6:[fd00::1]:6443,[fd00::2]:6443');
    expect(() => grpcTarget('cp1.example:6443,cp2.example:6443')).toThrow(/one name that resolves to every control plane/);
  });

  it('keeps answering get, list and apply when the control plane it used dies', async () => {
    const ts: TestStore = testStore();
    cleanups.push(() => ts.close());
    const a: TestServer = await startTestServer(ts.store);
    cleanups.push(() => a.stop());
    const b: TestServer = await startTestServer(ts.store);
    cleanups.push(() => b.stop());
    const pod = fromManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } }).object as Pod;
    await a.api.create({ object: wrap('Pod', pod) });

    const cli = new Api({ server: `127.0.0.1:${a.server.port},127.0.0.1:${b.server.port}`, token: '', tls: a.clientTls });
    cleanups.push(() => cli.close());
    expect(metaOf(unwrap(await cli.get({ kind: 'pod', namespace: 'default', name: 'p' })).value).name).toBe('p');
    await a.stop();
    expect(metaOf(unwrap(await cli.get({ kind: 'pod', namespace: 'default', name: 'p' })).value).name).toBe('p');
    expect((await cli.list({ kind: 'pods', namespace: 'default' })).items).toHaveLength(1);
    const applied = await cli.apply({
      dryRun: false, fieldManager: '', documents: [{ manifest: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'q', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } }), source: 'q.json' }],
    });
    expect(applied.results).toHaveLength(1);
  });
});
