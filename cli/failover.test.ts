// The CLI given two control planes: it answers through the first, and when that one dies
// between two commands (or under one), the next calls go to the other without an error.
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../control-plane/api/testing.js';
import { metaOf, unwrap, wrap } from '../proto/api/kinds.js';
import { fromManifest } from '../proto/api/manifest.js';
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import { testStore, type TestStore } from '../test/helpers/etcd-client.js';
import { sharedEndpoints, uniquePrefix } from '../test/helpers/etcd-client.js';
import { TcpProxy } from '../test/helpers/tcp-proxy.js';
import { Api, consume, grpcTarget } from './client.js';

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
    // A watch opens on whichever control plane answers.
    const stream = cli.watch({ kind: 'pods', namespace: 'default' });
    const names: string[] = [];
    await consume(cli, stream, (ev) => {
      if (ev.object) names.push(metaOf(unwrap(ev.object).value).name);
      if (names.length === 2) stream.cancel();
    });
    expect(names.sort()).toEqual(['p', 'q']);
  });

  // A control plane that keeps its connections open but cannot serve: cut off from etcd (its
  // writes fail Unavailable), or paused (nothing answers). Idempotent calls go on through B.
  async function behindProxies(): Promise<{ a: TestServer; b: TestServer; aEtcd: TcpProxy[]; aFront: TcpProxy; cli: Api }> {
    const prefix = uniquePrefix();
    const aEtcd = await Promise.all(sharedEndpoints().map((e) => new TcpProxy(new URL(e).hostname, Number(new URL(e).port)).start()));
    const sa = testStore(aEtcd.map((p) => p.endpoint), prefix);
    const sb = testStore(sharedEndpoints(), prefix);
    const a = await startTestServer(sa.store, { watchCache: { syncTimeoutMs: 1500 } });
    const b = await startTestServer(sb.store);
    const aFront = await new TcpProxy('127.0.0.1', a.server.port).start();
    const cli = new Api({ server: `127.0.0.1:${aFront.port},127.0.0.1:${b.server.port}`, token: '', tls: a.clientTls, timeoutMs: 2000, connectTimeoutMs: 1000 });
    cleanups.push(async () => {
      cli.close();
      aFront.setStalled(false);
      await aFront.stop();
      await a.stop();
      await b.stop();
      for (const p of aEtcd) await p.stop();
      await sa.close();
      sb.client.close();
    });
    return { a, b, aEtcd, aFront, cli };
  }
  const doc = (name: string) => ({ manifest: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { k: name } }), source: `${name}.json` });

  it('applies through the other control plane when its own is cut off from etcd', async () => {
    const p = await behindProxies();
    await p.cli.apply({ dryRun: false, fieldManager: '', documents: [doc('one')] });
    for (const x of p.aEtcd) x.setRefusing(true);
    const applied = await p.cli.apply({ dryRun: false, fieldManager: '', documents: [doc('two')] });
    expect(applied.results.map((r) => r.action)).toEqual(['created']);
    expect(metaOf(unwrap(await p.b.api.get({ kind: 'configmap', namespace: 'default', name: 'two' })).value).name).toBe('two');
  });

  it('reads through the other control plane when its own stops answering', async () => {
    const p = await behindProxies();
    await p.b.api.create({ object: wrap('Pod', fromManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } }).object as Pod) });
    await p.cli.version();
    p.aFront.setStalled(true);
    expect(metaOf(unwrap(await p.cli.get({ kind: 'pod', namespace: 'default', name: 'p' })).value).name).toBe('p');
    expect((await p.cli.list({ kind: 'pods', namespace: 'default' })).items).toHaveLength(1);
  });
});
