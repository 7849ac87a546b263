// Api.Evict on a real etcd: the rule of decide.ts applied through the API, the pod marked with
// the requested grace, TooManyRequests with its message, and two API servers racing for the
// last spare pod: the guarded write lets exactly one eviction through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, fromGrpcError } from '../../../proto/api/errors.js';
import { unwrapAs } from '../../../proto/api/kinds.js';
import type { EvictRequest, Resource } from '../../../proto/gen/skiff/v1/api.js';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import { testStore, type TestStore } from '../../../test/helpers/etcd-client.js';
import { controllerRefFor } from '../../controllers/runtime/claim.js';
import { deploymentFixture, podFixture, rsFixture } from '../../controllers/runtime/fixtures.js';
import { startTestServer, type TestApi, type TestServer } from '../testing.js';

let ts: TestStore;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  ts = testStore();
  a = await startTestServer(ts.store);
  b = await startTestServer(ts.store);
});
afterAll(async () => {
  await a.stop();
  await b.stop();
  await ts.close();
});

/** A Deployment (default strategy: maxUnavailable 25%) with its ReplicaSet and pods on n1. */
async function deployment(name: string, replicas: number, pods: { ready: boolean }[]): Promise<string[]> {
  const d = await ts.store.create('Deployment', deploymentFixture(name, { replicas }));
  const rs = await ts.store.create('ReplicaSet', rsFixture(`${name}-1`, {
    replicas, owner: controllerRefFor({ kind: 'Deployment', apiVersion: 'apps/v1', name, uid: d.metadata!.uid }),
  }));
  const owner = controllerRefFor({ kind: 'ReplicaSet', apiVersion: 'apps/v1', name: `${name}-1`, uid: rs.metadata!.uid });
  const names: string[] = [];
  for (const [i, p] of pods.entries()) {
    const pod = await ts.store.create('Pod', podFixture(`${name}-1-${i}`, { owner, nodeName: 'n1', ready: p.ready }));
    names.push(pod.metadata!.name);
  }
  return names;
}

const evict = (api: TestApi, r: Partial<EvictRequest>): Promise<Resource> =>
  new Promise((resolve, reject) => {
    api.client.evict({ namespace: 'default', name: '', dryRun: false, ...r }, api.md, (e, res) => (e ? reject(fromGrpcError(e)) : resolve(res)));
  });

async function failure(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (e instanceof ApiError) return e;
  throw new Error(`expected an ApiError, got ${String(e)}`);
}

const getPod = async (name: string): Promise<Pod> => ts.store.get('Pod', 'default', name);

describe('Api.Evict', () => {
  it('evicts while the Deployment keeps replicas - maxUnavailable available, then refuses with TooManyRequests', async () => {
    const [p0, p1, p2] = await deployment('web', 4, [{ ready: true }, { ready: true }, { ready: true }, { ready: true }]);
    const dry = unwrapAs('Pod', await evict(a.api, { name: p0, dryRun: true }));
    expect(dry.metadata?.deletionTimestamp).not.toBe('');
    expect((await getPod(p0!)).metadata?.deletionTimestamp).toBe('');

    const marked = unwrapAs('Pod', await evict(a.api, { name: p0, gracePeriodSeconds: 7 }));
    expect(marked.metadata?.deletionGracePeriodSeconds).toBe(7);
    expect((await getPod(p0!)).metadata?.deletionTimestamp).not.toBe('');

    const refused = await failure(evict(a.api, { name: p1 }));
    expect(refused.code).toBe('TooManyRequests');
    expect(refused.message).toBe(
      'Cannot evict pod as it would violate the availability of deployment "default/web": it needs 3 available pods ' +
        '(replicas 4 - maxUnavailable 1) and has 3; retry once a replacement is available, or scale the deployment up',
    );
    expect((await getPod(p1!)).metadata?.deletionTimestamp).toBe('');
    // Evicting the pod that is already going is fine (idempotent), and so is an unknown one: NotFound.
    await evict(a.api, { name: p0 });
    expect((await failure(evict(a.api, { name: 'nope' }))).code).toBe('NotFound');
    expect(p2).toBeDefined();
  });

  it('lets a pod that is not available go even at the floor', async () => {
    const [, , , sick] = await deployment('sick', 3, [{ ready: true }, { ready: true }, { ready: true }, { ready: false }]);
    await evict(a.api, { name: sick });
    // Unavailable and bound: marked with its own grace period, like a delete.
    expect((await getPod(sick!)).metadata?.deletionTimestamp).not.toBe('');
  });

  it('deletes a pod without a controller (drain asks for --force; the API does not)', async () => {
    await ts.store.create('Pod', podFixture('bare', { ready: true }));
    await evict(a.api, { name: 'bare' });
    expect((await failure(getPod('bare'))).code).toBe('NotFound');
  });

  it('two API servers racing for the one spare pod: exactly one eviction goes through', async () => {
    for (let round = 0; round < 3; round++) {
      const [p0, p1] = await deployment(`race${round}`, 4, [{ ready: true }, { ready: true }, { ready: true }, { ready: true }]);
      const results = await Promise.allSettled([evict(a.api, { name: p0 }), evict(b.api, { name: p1 })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected');
      expect(rejected?.status === 'rejected' && (rejected.reason as ApiError).code).toBe('TooManyRequests');
    }
  });

  it('rejects a negative grace period with its field', async () => {
    const e = await failure(evict(a.api, { name: 'x', gracePeriodSeconds: -1 }));
    expect(e.code).toBe('Invalid');
    expect(e.causes[0]?.field).toBe('deleteOptions.gracePeriodSeconds');
  });
});
