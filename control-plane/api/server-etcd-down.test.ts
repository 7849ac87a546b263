import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../proto/api/errors.js';
import { wrap } from '../../proto/api/kinds.js';
import { fromManifest } from '../../proto/api/manifest.js';
import { startEtcd, type EtcdServer } from '../../test/helpers/etcd.js';
import { testStore, type TestStore } from '../../test/helpers/etcd-client.js';
import { until } from '../../test/helpers/wait.js';
import { collect, startTestServer, type TestServer } from './testing.js';

let etcd: EtcdServer;
let ts: TestStore;
let srv: TestServer;

beforeAll(async () => {
  etcd = await startEtcd();
  ts = testStore([etcd.endpoint]);
  srv = await startTestServer(ts.store, { watchCache: { syncTimeoutMs: 1500 } });
});
let etcdStopped = false;
afterAll(async () => {
  await srv.stop();
  ts.client.close();
  // EtcdServer.stop() waits for an exit that already happened when called twice.
  if (!etcdStopped) await etcd.stop();
});

describe('etcd down', () => {
  it('fails calls with Unavailable instead of hanging', async () => {
    const { info, object } = fromManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x:1' }] } });
    await srv.api.create({ object: wrap(info.kind, object) });
    await etcd.stop();
    etcdStopped = true;
    for (const call of [
      () => srv.api.get({ kind: 'pod', name: 'p' }),
      () => srv.api.list({ kind: 'pods' }),
      () => srv.api.apply({ documents: [{ manifest: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'q' }, spec: { containers: [{ name: 'a', image: 'x:1' }] } }), source: 'q.json' }] }),
    ]) {
      const e = await call().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).code).toBe('Unavailable');
      expect((e as ApiError).message).toMatch(/etcd is unavailable/);
    }
    // A watch from resourceVersion "0" (any state) is served from the server's cache, like
    // Kubernetes' watch cache: it opens. (Unset means "as of now" and needs etcd.)
    const w = collect(srv.api.watch({ kind: 'leases', allowBookmarks: true, resourceVersion: '0' }));
    await until(() => w.events.length > 0 || w.error() !== undefined, 10_000, 'watch answer');
    expect(w.events[0]?.type).toBe('BOOKMARK');
    w.stop();
  });
});
