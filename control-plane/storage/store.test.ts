// Integration tests against the real etcd started by test/setup/global-etcd.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../proto/api/errors.js';
import { KINDS } from '../../proto/api/kinds.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { testStore, type TestStore } from '../../test/helpers/etcd-client.js';
import { fullDeployment, nodeFixture, podFixture } from '../../test/helpers/objects.js';
import { until } from '../../test/helpers/wait.js';
import { MAX_OBJECT_BYTES } from './store.js';
import type { WatchEvent } from './watch.js';

let t: TestStore;
beforeEach(() => {
  t = testStore();
});
afterEach(async () => {
  await t.close();
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
}

describe('Store', () => {
  it('creates, gets and refuses a second create of the same name', async () => {
    const created = await t.store.create('Pod', podFixture('a'));
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.generation).toBe(1);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    const got = await t.store.get('Pod', 'default', 'a');
    expect(got).toEqual(created);
    expect(await code(t.store.create('Pod', podFixture('a')))).toBe('AlreadyExists');
    expect(await code(t.store.get('Pod', 'default', 'missing'))).toBe('NotFound');
  });

  it('lets exactly one of two concurrent updates from the same resourceVersion win', async () => {
    const created = await t.store.create('Pod', podFixture('race'));
    const a = structuredClone(created);
    const b = structuredClone(created);
    a.metadata!.labels = { winner: 'a' };
    b.metadata!.labels = { winner: 'b' };
    const results = await Promise.all([code(t.store.update('Pod', a)), code(t.store.update('Pod', b))]);
    expect(results.sort()).toEqual(['Conflict', 'ok']);
    const stored = await t.store.get('Pod', 'default', 'race');
    expect(['a', 'b']).toContain(stored.metadata?.labels.winner);
    expect(Number(stored.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));
  });

  it('bumps generation on spec changes only and skips writes that change nothing', async () => {
    const created = await t.store.create('Pod', podFixture('gen'));
    const labelled = structuredClone(created);
    labelled.metadata!.labels = { x: 'y' };
    const u1 = await t.store.update('Pod', labelled);
    expect(u1.metadata?.generation).toBe(1);
    const respec = structuredClone(u1);
    respec.spec!.containers[0]!.image = 'busybox:2';
    const u2 = await t.store.update('Pod', respec);
    expect(u2.metadata?.generation).toBe(2);
    const same = await t.store.update('Pod', structuredClone(u2));
    expect(same.metadata?.resourceVersion).toBe(u2.metadata?.resourceVersion);
  });

  it('deletes with preconditions', async () => {
    const created = await t.store.create('Pod', podFixture('del'));
    expect(await code(t.store.delete('Pod', 'default', 'del', { uid: 'other' }))).toBe('Conflict');
    expect(await code(t.store.delete('Pod', 'default', 'del', { resourceVersion: '1' }))).toBe('Conflict');
    const gone = await t.store.delete('Pod', 'default', 'del', { uid: created.metadata!.uid });
    expect(gone.metadata?.name).toBe('del');
    expect(await code(t.store.get('Pod', 'default', 'del'))).toBe('NotFound');
  });

  it('returns exactly the objects a label selector and a field selector match', async () => {
    await t.store.create('Pod', podFixture('w1', { labels: { app: 'web', tier: 'fe' }, nodeName: 'n1', phase: 'Running' }));
    await t.store.create('Pod', podFixture('w2', { labels: { app: 'web' }, nodeName: 'n2', phase: 'Pending' }));
    await t.store.create('Pod', podFixture('d1', { labels: { app: 'db' }, nodeName: 'n1', phase: 'Running' }));
    await t.store.create('Pod', podFixture('o1', { namespace: 'other', labels: { app: 'web' }, nodeName: 'n1' }));
    const names = (items: Pod[]): string[] => items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).sort();

    expect(names((await t.store.list('Pod', { namespace: 'default', labelSelector: 'app=web' })).items)).toEqual([
      'default/w1',
      'default/w2',
    ]);
    expect(names((await t.store.list('Pod', { labelSelector: 'app in (web),tier' })).items)).toEqual(['default/w1']);
    expect(names((await t.store.list('Pod', { labelSelector: 'app!=web' })).items)).toEqual(['default/d1']);
    expect(names((await t.store.list('Pod', { fieldSelector: 'spec.nodeName=n1' })).items)).toEqual([
      'default/d1',
      'default/w1',
      'other/o1',
    ]);
    expect(
      names((await t.store.list('Pod', { namespace: 'default', fieldSelector: 'spec.nodeName=n1,status.phase!=Running' })).items),
    ).toEqual([]);
    expect(names((await t.store.list('Pod', { fieldSelector: 'metadata.name=w2' })).items)).toEqual(['default/w2']);
    expect(await code(t.store.list('Pod', { fieldSelector: 'spec.image=x' }))).toBe('BadRequest');
    expect(await code(t.store.list('Pod', { labelSelector: 'app in web' }))).toBe('BadRequest');
  });

  it('lists in pages from one snapshot', async () => {
    const writes = Array.from({ length: 1203 }, (_, i) => ({
      kind: 'Node' as const,
      op: 'create' as const,
      object: nodeFixture(`node-${String(i).padStart(4, '0')}`),
    }));
    for (let i = 0; i < writes.length; i += 100) {
      const chunk = writes.slice(i, i + 100);
      for (const w of chunk) t.store.prepareCreate(KINDS.Node, w.object);
      await t.store.transact(chunk);
    }
    const { items, revision } = await t.store.list('Node');
    expect(items).toHaveLength(1203);
    expect(items[1202]?.metadata?.name).toBe('node-1202');
    expect(revision).toBeGreaterThan(0);
  });

  it('applies several writes atomically: one stale guard fails them all', async () => {
    const a = await t.store.create('Pod', podFixture('ta'));
    const b = podFixture('tb');
    t.store.prepareCreate(KINDS.Pod, b);
    const staleA = structuredClone(a);
    staleA.metadata!.resourceVersion = '1';
    expect(await code(t.store.transact([{ kind: 'Pod', op: 'update', object: staleA }, { kind: 'Pod', op: 'create', object: b }]))).toBe(
      'Conflict',
    );
    expect(await code(t.store.get('Pod', 'default', 'tb'))).toBe('NotFound');
  });

  it('refuses an object over the size limit as Invalid, and a transaction over etcd\'s limit as Invalid, writing nothing', async () => {
    const big = podFixture('big');
    big.metadata!.annotations = { blob: 'x'.repeat(MAX_OBJECT_BYTES) };
    const e = await t.store.create('Pod', big).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).code).toBe('Invalid');
    expect((e as ApiError).describe()).toContain('object too large');
    expect(await code(t.store.get('Pod', 'default', 'big'))).toBe('NotFound');
    // Each under the limit, together over etcd's request limit: refused in one piece.
    const halves = ['h1', 'h2'].map((n) => {
      const p = podFixture(n);
      p.metadata!.annotations = { blob: 'y'.repeat(MAX_OBJECT_BYTES - 4096) };
      t.store.prepareCreate(KINDS.Pod, p);
      return p;
    });
    const te = await t.store.transact(halves.map((object) => ({ kind: 'Pod' as const, op: 'create' as const, object }))).then(() => undefined, (x: unknown) => x);

    expect((te as ApiError).code).toBe('Invalid');
    expect((te as ApiError).message).toContain('too large for one etcd transaction');
    expect(await code(t.store.get('Pod', 'default', 'h1'))).toBe('NotFound');
  });

  it('round-trips every field of a Deployment through a watch', async () => {
    const start = await t.store.currentRevision();
    const events: WatchEvent<unknown>[] = [];
    const w = t.store.watch('Deployment', { afterRevision: start, onEvent: (e) => events.push(e), onError: () => undefined });
    await w.ready;
    const created = await t.store.create('Deployment', fullDeployment());
    await until(() => events.length === 1);
    expect(events[0]!.type).toBe('ADDED');
    expect(events[0]!.object).toEqual(created);
    await w.close();
  });

  it('guaranteedUpdate retries on conflict until it wins', async () => {
    await t.store.create('Pod', podFixture('gu'));
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        t.store.guaranteedUpdate('Pod', 'default', 'gu', (p) => {
          p.metadata!.annotations[`k${i}`] = 'v';
          return p;
        }),
      ),
    );
    const p = await t.store.get('Pod', 'default', 'gu');
    expect(Object.keys(p.metadata!.annotations).sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
  });
});
