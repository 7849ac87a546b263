import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { objectKey } from '../../proto/api/kinds.js';
import { startEtcd, type EtcdServer } from '../../test/helpers/etcd.js';
import { testStore } from '../../test/helpers/etcd-client.js';
import { podFixture } from '../../test/helpers/objects.js';
import { TcpProxy } from '../../test/helpers/tcp-proxy.js';
import { until } from '../../test/helpers/wait.js';
import { Informer } from './informer.js';

let etcd: EtcdServer;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
});

describe('Informer', () => {
  it('recovers from a compacted watch by re-listing, with no change lost in its cache', async () => {
    const proxy = await new TcpProxy('127.0.0.1', etcd.clientPort).start();
    const writer = testStore([etcd.endpoint]);
    const reader = testStore([proxy.endpoint], writer.prefix);
    const inf = new Informer(reader.store, 'Pod', { initialBackoffMs: 50, maxBackoffMs: 200 });
    inf.addIndex('node', (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
    const seen = new Map<string, string>(); // key -> last label seen through handlers
    inf.addHandlers({
      onAdd: (p) => seen.set(objectKey(p), p.metadata?.labels.v ?? ''),
      onUpdate: (_o, p) => seen.set(objectKey(p), p.metadata?.labels.v ?? ''),
      onDelete: (p) => seen.delete(objectKey(p)),
    });
    try {
      for (const n of ['a', 'b', 'c']) await writer.store.create('Pod', podFixture(n, { labels: { v: '1' }, nodeName: 'n1' }));
      await inf.start();
      expect(inf.size).toBe(3);
      expect(inf.lists).toBe(1);

      proxy.setRefusing(true);
      // While the informer is cut off: update, delete, create, then compact that history away.
      const a = await writer.store.get('Pod', 'default', 'a');
      a.metadata!.labels = { v: '2' };
      a.spec!.nodeName = 'n2';
      await writer.store.update('Pod', a);
      await writer.store.delete('Pod', 'default', 'b');
      await writer.store.create('Pod', podFixture('d', { labels: { v: '1' }, nodeName: 'n1' }));
      const rev = await writer.store.currentRevision();
      await writer.store.compact(rev);
      proxy.setRefusing(false);

      await until(() => inf.lists === 2 && inf.revision >= rev, 20_000, 'informer re-list');
      const truth = (await writer.store.list('Pod')).items;
      expect(inf.list().map((p: Pod) => `${objectKey(p)}@${p.metadata?.resourceVersion}`).sort()).toEqual(
        truth.map((p) => `${objectKey(p)}@${p.metadata?.resourceVersion}`).sort(),
      );
      expect(Object.fromEntries([...seen].sort())).toEqual({ 'default/a': '2', 'default/c': '1', 'default/d': '1' });
      expect(inf.byIndex('node', 'n1').map((p) => p.metadata?.name).sort()).toEqual(['c', 'd']);
      expect(inf.byIndex('node', 'n2').map((p) => p.metadata?.name)).toEqual(['a']);

      // And it keeps watching afterwards.
      await writer.store.create('Pod', podFixture('e'));
      await until(() => inf.get('default/e') !== undefined, 10_000, 'event after recovery');
    } finally {
      await inf.stop();
      await reader.close();
      await writer.close();
      await proxy.stop();
    }
  });
});
