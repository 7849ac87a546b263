import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KINDS, metaOf, type AnyObject, type Kind } from '../../proto/api/kinds.js';
import { PodStatus, type Pod } from '../../proto/gen/skiff/v1/core.js';
import { testStore, type TestStore } from '../../test/helpers/etcd-client.js';
import { podFixture } from '../../test/helpers/objects.js';
import { until } from '../../test/helpers/wait.js';
import { parseFieldSelector } from '../storage/fields.js';
import { Informer } from '../storage/informer.js';
import { parseLabelSelector } from '../storage/labels.js';
import { KindWatchCache, type WatchCacheOptions, type WatchType } from './watch-cache.js';

interface Seen {
  type: WatchType;
  object: AnyObject | undefined;
  revision: number;
}

let ts: TestStore;
let informer: Informer<Kind>;
let cache: KindWatchCache;

async function start(opts: WatchCacheOptions = {}): Promise<void> {
  informer = new Informer<Kind>(ts.store, 'Pod');
  await informer.start();
  cache = new KindWatchCache(informer, KINDS.Pod, opts);
}

beforeEach(() => {
  ts = testStore();
});
afterEach(async () => {
  cache?.close();
  await informer?.stop();
  await ts.close();
});

/** A watcher of pods in every namespace; `lines` reads its events as "TYPE name". */
function watch(sel: { fields?: string; labels?: string } = {}, resourceVersion = '', bookmarks = false) {
  const seen: Seen[] = [];
  const filter = {
    namespace: '',
    labels: parseLabelSelector(sel.labels ?? ''),
    fields: parseFieldSelector(KINDS.Pod, sel.fields ?? ''),
  };
  const stop = cache.watch(filter, resourceVersion, bookmarks, (type, object, revision) => seen.push({ type, object, revision }));
  const lines = () => seen.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type} ${e.object ? metaOf(e.object).name : ''}`);
  return { seen, lines, stop };
}

/** Writes through the store; resolves once the cache has seen the write. */
async function settle<T extends AnyObject>(write: Promise<T>): Promise<T> {
  const o = await write;
  await informer.waitForRevision(Number(metaOf(o).resourceVersion));
  return o;
}

const create = (name: string, opts: Parameters<typeof podFixture>[1] = {}) => settle(ts.store.create('Pod', podFixture(name, opts)));
const mutate = (name: string, fn: (p: Pod) => void) =>
  settle(
    ts.store.guaranteedUpdate('Pod', 'default', name, (p) => {
      fn(p);
      return p;
    }),
  );
const remove = (name: string) => settle(ts.store.delete('Pod', 'default', name));
const nodeOf = (o: AnyObject | undefined): string | undefined => (o && 'spec' in o && o.spec && 'nodeName' in o.spec ? o.spec.nodeName : undefined);

describe('KindWatchCache indexed by spec.nodeName', () => {
  it('gives a node watcher its pods entering, changing, moving away and going; others see what they match', async () => {
    await start();
    const a = watch({ fields: 'spec.nodeName=node-a' });
    const aDouble = watch({ fields: 'spec.nodeName==node-a', labels: 'app=x' });
    const b = watch({ fields: 'spec.nodeName=node-b' });
    const unbound = watch({ fields: 'spec.nodeName=' });
    const all = watch();
    const labelled = watch({ labels: 'app=x' });
    const notA = watch({ fields: 'spec.nodeName!=node-a' });
    expect(cache.watcherCount).toBe(7);

    await create('p1', { labels: { app: 'x' } });
    await mutate('p1', (p) => (p.spec!.nodeName = 'node-a'));
    await mutate('p1', (p) => (p.status = PodStatus.fromPartial({ phase: 'Running' })));
    const moved = await mutate('p1', (p) => (p.spec!.nodeName = 'node-b'));
    await create('p2', { labels: { app: 'y' }, nodeName: 'node-a' });
    await remove('p1');
    await remove('p2');

    expect(a.lines()).toEqual(['ADDED p1', 'MODIFIED p1', 'DELETED p1', 'ADDED p2', 'DELETED p2']);
    expect(aDouble.lines()).toEqual(['ADDED p1', 'MODIFIED p1', 'DELETED p1']);
    expect(b.lines()).toEqual(['ADDED p1', 'DELETED p1']);
    expect(unbound.lines()).toEqual(['ADDED p1', 'DELETED p1']);
    expect(all.lines()).toEqual(['ADDED p1', 'MODIFIED p1', 'MODIFIED p1', 'MODIFIED p1', 'ADDED p2', 'DELETED p1', 'DELETED p2']);
    expect(labelled.lines()).toEqual(['ADDED p1', 'MODIFIED p1', 'MODIFIED p1', 'MODIFIED p1', 'DELETED p1']);
    expect(notA.lines()).toEqual(['ADDED p1', 'DELETED p1', 'ADDED p1', 'DELETED p1']);

    // Leaving node-a, a's watcher gets the pod as it was there, at the revision it moved away.
    const left = a.seen[2]!;
    expect(nodeOf(left.object)).toBe('node-a');
    expect(left.revision).toBe(Number(moved.metadata!.resourceVersion));
    expect(metaOf(left.object!).resourceVersion).toBe(moved.metadata!.resourceVersion);
    expect(nodeOf(b.seen[0]!.object)).toBe('node-b');
    // Each watcher's events come in revision order.
    for (const w of [a, b, unbound, all, labelled, notA]) {
      const revs = w.seen.map((e) => e.revision);
      expect(revs).toEqual([...revs].sort((x, y) => x - y));
    }

    a.stop();
    notA.stop();
    a.stop();
    expect(cache.watcherCount).toBe(5);
    await create('p3', { nodeName: 'node-a' });
    await create('p4', { nodeName: 'node-c' });
    expect(a.lines()).toHaveLength(5);
    expect(notA.lines()).toHaveLength(4);
    expect(all.lines().slice(-2)).toEqual(['ADDED p3', 'ADDED p4']);
  });

  it('starts a node watcher from its node\'s current pods, and resumes one from a resourceVersion', async () => {
    await create('a1', { nodeName: 'node-a' });
    await create('b1', { nodeName: 'node-b' });
    await start();
    const fresh = watch({ fields: 'spec.nodeName=node-a' });
    expect(fresh.lines()).toEqual(['ADDED a1']);
    const live = watch({ fields: 'spec.nodeName=node-a' });
    const from = String(cache.revision);

    await mutate('a1', (p) => (p.status = PodStatus.fromPartial({ phase: 'Running' })));
    await mutate('b1', (p) => (p.status = PodStatus.fromPartial({ phase: 'Running' })));
    await create('a2', { nodeName: 'node-a' });
    await mutate('b1', (p) => (p.spec!.nodeName = 'node-a'));
    await remove('a1');

    const resumed = watch({ fields: 'spec.nodeName=node-a' }, from, true);
    expect(resumed.lines()).toEqual(['MODIFIED a1', 'ADDED a2', 'ADDED b1', 'DELETED a1']);
    expect(resumed.seen.filter((e) => e.type !== 'BOOKMARK').map((e) => e.revision)).toEqual(live.seen.slice(1).map((e) => e.revision));
    expect(resumed.seen.at(-1)).toEqual({ type: 'BOOKMARK', object: undefined, revision: cache.revision });
    const other = watch({ fields: 'spec.nodeName=node-b' }, from);
    expect(other.lines()).toEqual(['MODIFIED b1', 'DELETED b1']);

    // After the replay it carries on live, once per event.
    await mutate('a2', (p) => (p.status = PodStatus.fromPartial({ phase: 'Running' })));
    expect(resumed.lines().slice(4)).toEqual(['MODIFIED a2']);
    expect(live.lines()).toEqual(['ADDED a1', 'MODIFIED a1', 'ADDED a2', 'ADDED b1', 'DELETED a1', 'MODIFIED a2']);
    expect(other.lines()).toHaveLength(2);
  });

  it('gives each of 500 node watchers only its own node\'s events', async () => {
    await start();
    const nodes = Array.from({ length: 500 }, (_, i) => `node-${i}`);
    const watchers = nodes.map((n) => watch({ fields: `spec.nodeName=${n}` }));
    const all = watch();
    expect(cache.watcherCount).toBe(501);
    const used = nodes.filter((_, i) => i % 10 === 3);
    await Promise.all(used.map((n) => create(`pod-${n}`, { nodeName: n })));
    await Promise.all(used.map((n) => mutate(`pod-${n}`, (p) => (p.status = PodStatus.fromPartial({ phase: 'Running' })))));
    await Promise.all(used.map((n) => remove(`pod-${n}`)));

    nodes.forEach((n, i) => {
      const expected = i % 10 === 3 ? [`ADDED pod-${n}`, `MODIFIED pod-${n}`, `DELETED pod-${n}`] : [];
      expect(watchers[i]!.lines(), n).toEqual(expected);
    });
    expect(all.lines()).toHaveLength(used.length * 3);
    for (const w of watchers) w.stop();
    expect(cache.watcherCount).toBe(1);
  });

  it('still sends bookmarks to every watcher that asked, indexed or not', async () => {
    await start({ bookmarkIntervalMs: 20 });
    const indexed = watch({ fields: 'spec.nodeName=node-a' }, '', true);
    const plain = watch({}, '', true);
    const quiet = watch({ fields: 'spec.nodeName=node-a' });
    const created = await create('bm', { nodeName: 'node-a' });
    const rv = Number(created.metadata!.resourceVersion);
    const bookmarksAt = (w: typeof indexed) => w.seen.filter((e) => e.type === 'BOOKMARK' && e.revision >= rv).length;
    await until(() => bookmarksAt(indexed) > 0 && bookmarksAt(plain) > 0, 10_000, 'bookmarks after the write');
    expect(quiet.seen.map((e) => e.type)).toEqual(['ADDED']);
  });
});
