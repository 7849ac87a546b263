// Group commit against the real etcd (test/setup/global-etcd.ts): concurrent writes share
// transactions, yet each one succeeds or fails exactly as if it had been sent alone.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../proto/api/errors.js';
import { testStore, type TestStore } from '../../test/helpers/etcd-client.js';
import { podFixture } from '../../test/helpers/objects.js';
import type { ITxnResponse } from 'etcd3';
import { TxnBatcher, type TxnOp } from './txn-batcher.js';

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

describe('TxnBatcher through the Store', () => {
  it('folds a burst of creates into few transactions, every object stored', async () => {
    const before = { ...t.store.batcher.stats };
    const created = await Promise.all(Array.from({ length: 300 }, (_, i) => t.store.create('Pod', podFixture(`p-${i}`))));
    const txns = t.store.batcher.stats.txns - before.txns;
    expect(t.store.batcher.stats.ops - before.ops).toBe(300);
    expect(txns).toBeLessThan(300);
    const listed = await t.store.list('Pod');
    expect(listed.items.map((p) => p.metadata?.name).sort()).toEqual(created.map((p) => p.metadata?.name).sort());
    // Each object's resourceVersion is the revision that wrote it.
    for (const p of listed.items) {
      expect(p.metadata?.resourceVersion).toBe(created.find((c) => c.metadata?.name === p.metadata?.name)?.metadata?.resourceVersion);
    }
  });

  it('fails only the writes whose own guard fails when they share a batch', async () => {
    const a = await t.store.create('Pod', podFixture('a'));
    const b = await t.store.create('Pod', podFixture('b'));
    // Move b on, so an update from its old copy is stale.
    const b2 = structuredClone(b);
    b2.metadata!.labels = { moved: 'yes' };
    await t.store.update('Pod', b2);
    const aNext = structuredClone(a);
    aNext.metadata!.labels = { x: '1' };
    const bStale = structuredClone(b);
    bStale.metadata!.labels = { x: '1' };
    const before = t.store.batcher.stats.splits;
    const results = await Promise.all([
      code(t.store.update('Pod', aNext, { current: a })),
      code(t.store.update('Pod', bStale, { current: b })),
      code(t.store.create('Pod', podFixture('a'))),
      code(t.store.create('Pod', podFixture('c'))),
    ]);
    expect(results).toEqual(['ok', 'Conflict', 'AlreadyExists', 'ok']);
    expect(t.store.batcher.stats.splits).toBeGreaterThan(before);
    expect((await t.store.get('Pod', 'default', 'a')).metadata?.labels).toEqual({ x: '1' });
    expect((await t.store.get('Pod', 'default', 'b')).metadata?.labels).toEqual({ moved: 'yes' });
  });

  it('sends two writes of one key in order, never in one transaction', async () => {
    const a = await t.store.create('Pod', podFixture('a'));
    const first = structuredClone(a);
    first.metadata!.labels = { n: '1' };
    const second = structuredClone(a);
    second.metadata!.labels = { n: '2' };
    const results = await Promise.all([
      code(t.store.update('Pod', first, { current: a })),
      code(t.store.update('Pod', second, { current: a })),
    ]);
    expect(results).toEqual(['ok', 'Conflict']);
    expect((await t.store.get('Pod', 'default', 'a')).metadata?.labels).toEqual({ n: '1' });
  });

  it('tells NotFound from Conflict for an update whose stored object is gone', async () => {
    const a = await t.store.create('Pod', podFixture('a'));
    await t.store.delete('Pod', 'default', 'a');
    const next = structuredClone(a);
    next.metadata!.labels = { x: '1' };
    expect(await code(t.store.update('Pod', next, { current: a }))).toBe('NotFound');
  });

  it('does not trust a given copy for a no-op: a stale copy still gets Conflict', async () => {
    const a = await t.store.create('Pod', podFixture('a'));
    const moved = structuredClone(a);
    moved.metadata!.labels = { moved: 'yes' };
    await t.store.update('Pod', moved);
    expect(await code(t.store.update('Pod', structuredClone(a), { current: a }))).toBe('Conflict');
  });
});

describe('TxnBatcher with a transaction etcd never answers', () => {
  // A follower forwarded the proposal to a leader that then died: etcd answers nothing until the
  // request's deadline. Later writes, of that key and of others, must not wait for it.
  it('lets later writes of its key and of others go once it is stuck', async () => {
    const key = Buffer.from('/k/lease');
    const sent: string[] = [];
    let first = true;
    const batcher = new TxnBatcher(async (req) => {
      sent.push((req.success ?? []).map((op) => String(op.request_put?.key)).join(','));
      if (first) {
        first = false;
        return new Promise<never>(() => undefined);
      }
      return { header: { revision: '7' }, succeeded: true, responses: [] } as unknown as ITxnResponse;
    }, { maxInFlight: 1, stuckAfterMs: 20 });
    const op = (k: Buffer): TxnOp => ({ key: k, guard: { kind: 'mod', modRevision: 5 }, request: { request_put: { key: k, value: Buffer.from('v') } }, size: 10 });
    void batcher.submit(op(key));
    while (sent.length === 0) await new Promise((r) => setImmediate(r));
    const later = await Promise.all([batcher.submit(op(key)), batcher.submit(op(Buffer.from('/k/other')))]);
    expect(later.map((o) => o.succeeded)).toEqual([true, true]);
    expect(sent[0]).toBe('/k/lease');
    expect(batcher.stats.stuck).toBeGreaterThan(0);
  });
});
