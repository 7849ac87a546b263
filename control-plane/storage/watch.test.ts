// Watch guarantees against real etcd: resume after a dropped connection with every change
// exactly once and in order, and a clear Expired error for compacted history.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError } from '../../proto/api/errors.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { startEtcd, type EtcdServer } from '../../test/helpers/etcd.js';
import { testStore } from '../../test/helpers/etcd-client.js';
import { podFixture } from '../../test/helpers/objects.js';
import { TcpProxy } from '../../test/helpers/tcp-proxy.js';
import { until } from '../../test/helpers/wait.js';
import type { WatchEvent } from './watch.js';

// Compaction is cluster-wide, so these tests use an etcd of their own.
let etcd: EtcdServer;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
});

const label = (e: WatchEvent<Pod>): string => `${e.type} ${e.object.metadata?.name} ${e.object.metadata?.labels.step ?? ''}`;

describe('StoreWatch', () => {
  it('resumed from revision R after a connection drop, sees every change after R once and in order', async () => {
    const proxy = await new TcpProxy('127.0.0.1', etcd.clientPort).start();
    // Same prefix: the writer talks to etcd directly, the watcher through the proxy.
    const writer = testStore([etcd.endpoint]);
    const watched = testStore([proxy.endpoint], writer.prefix);
    const store = writer.store;
    const wstore = watched.store;
    try {
      await store.create('Pod', podFixture('before'));
      const r = await store.currentRevision();
      const events: WatchEvent<Pod>[] = [];
      const errors: ApiError[] = [];
      const w = wstore.watch('Pod', { afterRevision: r, onEvent: (e) => events.push(e), onError: (e) => errors.push(e) });
      await w.ready;

      const expected: string[] = [];
      const step = async (i: number): Promise<void> => {
        const name = `p${i % 3}`;
        try {
          const cur = await store.get('Pod', 'default', name);
          if (i % 5 === 4) {
            await store.delete('Pod', 'default', name);
            expected.push(`DELETED ${name} ${cur.metadata?.labels.step ?? ''}`);
          } else {
            cur.metadata!.labels = { step: String(i) };
            await store.update('Pod', cur);
            expected.push(`MODIFIED ${name} ${i}`);
          }
        } catch {
          await store.create('Pod', podFixture(name, { labels: { step: String(i) } }));
          expected.push(`ADDED ${name} ${i}`);
        }
      };
      for (let i = 0; i < 10; i++) await step(i);
      await until(() => events.length === 10, 10_000, 'first 10 events');
      proxy.setRefusing(true); // the watch stream drops; etcd stays up
      for (let i = 10; i < 30; i++) await step(i);
      await new Promise((r) => setTimeout(r, 300));
      expect(events.length).toBe(10); // nothing arrives while cut off
      proxy.setRefusing(false);
      await until(() => events.length >= 30, 20_000, 'events after reconnect');
      await new Promise((r) => setTimeout(r, 300));
      expect(events.map(label)).toEqual(expected);
      const revs = events.map((e) => e.revision);
      expect([...revs].sort((a, b) => a - b)).toEqual(revs);
      expect(new Set(revs).size).toBe(revs.length);
      expect(errors).toEqual([]);

      // An explicit resume from a revision in the middle replays exactly the suffix.
      const mid = events[14]!.revision;
      const replay: WatchEvent<Pod>[] = [];
      const w2 = store.watch('Pod', { afterRevision: mid, onEvent: (e) => replay.push(e), onError: () => undefined });
      await w2.ready;
      await until(() => replay.length === 15, 10_000, 'replayed suffix');
      expect(replay.map(label)).toEqual(expected.slice(15));
      await w.close();
      await w2.close();
    } finally {
      await watched.close();
      await writer.close();
      await proxy.stop();
    }
  });

  it('ends with an Expired error when the start revision was compacted', async () => {
    const t = testStore([etcd.endpoint]);
    try {
      const first = await t.store.create('Pod', podFixture('c1'));
      await t.store.create('Pod', podFixture('c2'));
      await t.store.create('Pod', podFixture('c3'));
      await t.store.compact(await t.store.currentRevision());
      const errs: ApiError[] = [];
      const w = t.store.watch('Pod', {
        afterRevision: Number(first.metadata!.resourceVersion) - 1,
        onEvent: () => undefined,
        onError: (e) => errs.push(e),
      });
      await w.ready.catch(() => undefined);
      await until(() => errs.length === 1, 10_000, 'expired error');
      expect(errs[0]!.code).toBe('Expired');
      expect(errs[0]!.message).toMatch(/compacted; re-list/);
    } finally {
      await t.close();
    }
  });
});
