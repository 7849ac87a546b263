// The control plane through a loss of etcd (its only member frozen with SIGSTOP: no quorum, no
// answers, connections stay open) and back, without a restart: lists from its cache keep
// answering, writes are refused with Unavailable, and once etcd answers again writes land and
// the cache follows them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../proto/api/errors.js';
import { metaOf, unwrap, wrap } from '../../proto/api/kinds.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { fromManifest } from '../../proto/api/manifest.js';
import { startEtcd, type EtcdServer } from '../../test/helpers/etcd.js';
import { testStore, type TestStore } from '../../test/helpers/etcd-client.js';
import { until } from '../../test/helpers/wait.js';
import { startTestServer, type TestServer } from './testing.js';

let etcd: EtcdServer;
let ts: TestStore;
let srv: TestServer;

beforeAll(async () => {
  etcd = await startEtcd();
  ts = testStore([etcd.endpoint]);
  srv = await startTestServer(ts.store, { watchCache: { syncTimeoutMs: 1500 } });
});
afterAll(async () => {
  etcd.process.kill('SIGCONT');
  await srv.stop();
  ts.client.close();
  await etcd.stop();
});

const podDoc = (name: string) =>
  wrap('Pod', fromManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'a', image: 'x:1' }] } }).object as Pod);

async function failure(call: () => Promise<unknown>): Promise<unknown> {
  return call().then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('etcd frozen and back', () => {
  it('serves cached lists, refuses writes (Unavailable, or Timeout when sent and unanswered), and resumes writing when etcd answers again', async () => {
    await srv.api.create({ object: podDoc('before') });
    const cachedNames = async (): Promise<string[]> =>
      (await srv.api.list({ kind: 'pods', namespace: 'default', resourceVersion: '0' })).items.map((r) => metaOf(unwrap(r).value).name).sort();
    await until(async () => (await cachedNames()).includes('before'), 10_000, 'cache has the pod');

    etcd.process.kill('SIGSTOP');
    // Reads from the cache (resourceVersion "0": any state, as a kubelet's reflector lists) answer.
    expect(await cachedNames()).toEqual(['before']);
    const e = await failure(() => srv.api.create({ object: podDoc('during') }));
    expect(e).toBeInstanceOf(ApiError);
    // Refused before it was sent (Unavailable: never applied), or sent to the frozen etcd and
    // unanswered (Timeout: the message says it may still be applied, as it is once etcd wakes).
    const code = (e as ApiError).code;
    expect(['Unavailable', 'Timeout']).toContain(code);
    if (code === 'Timeout') expect((e as ApiError).message).toContain('may still be applied');
    expect(await cachedNames()).toEqual(['before']);

    etcd.process.kill('SIGCONT');
    // Same process, no restart: writes go through again and the cache follows.
    await until(async () => (await failure(() => srv.api.create({ object: podDoc('after') }))) === undefined, 30_000, 'a write accepted again');
    await until(async () => (await cachedNames()).includes('after'), 10_000, 'cache caught up');
    expect(await cachedNames()).toEqual(code === 'Timeout' ? expect.arrayContaining(['after', 'before']) : ['after', 'before']);
    expect((await cachedNames()).filter((n) => !['after', 'before', 'during'].includes(n))).toEqual([]);
  });
});
