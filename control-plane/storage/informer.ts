// An informer keeps a local cache of one kind in step with etcd: list, then watch from the
// list's revision; on an Expired watch (compacted history) list again and turn the difference
// into events, so handlers and the cache never miss a change; on other failures back off and
// resume the watch from the last revision seen. Controllers and the API server share one
// informer per kind and read from its cache instead of etcd.
import { errors, type ApiError } from '../../proto/api/errors.js';
import { KINDS, objectKey, type Kind, type KindMap } from '../../proto/api/kinds.js';
import type { Store } from './store.js';
import type { WatchEvent } from './watch.js';

export interface InformerHandlers<T> {
  onAdd?: (o: T) => void;
  onUpdate?: (old: T, o: T) => void;
  onDelete?: (o: T) => void;
}

export interface InformerOptions {
  namespace?: string;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  onError?: (e: ApiError, attempt: number) => void;
}

type IndexFn<T> = (o: T) => string[];

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Informer<K extends Kind> {
  private readonly cache = new Map<string, KindMap[K]>();
  private readonly handlers: InformerHandlers<KindMap[K]>[] = [];
  private readonly indexFns = new Map<string, IndexFn<KindMap[K]>>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private readonly revisionWaiters: { revision: number; resolve: () => void }[] = [];
  private stopped = false;
  private synced = false;
  private rev = 0;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private stopWatch: (() => Promise<void>) | undefined;
  /** Number of full lists done (1 at start, +1 per expiry): for tests and metrics. */
  lists = 0;

  constructor(
    private readonly store: Store,
    readonly kind: K,
    private readonly opts: InformerOptions = {},
  ) {}

  get hasSynced(): boolean {
    return this.synced;
  }

  /** The etcd revision the cache reflects. */
  get revision(): number {
    return this.rev;
  }

  /** Registers handlers (replaying the cache as adds if synced); returns their remover. */
  addHandlers(h: InformerHandlers<KindMap[K]>): () => void {
    this.handlers.push(h);
    if (this.synced) for (const o of this.cache.values()) h.onAdd?.(o);
    return () => {
      const i = this.handlers.indexOf(h);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  hasIndex(name: string): boolean {
    return this.indexFns.has(name);
  }

  /** Adds an index (e.g. pods by node); must be called before start. */
  addIndex(name: string, fn: IndexFn<KindMap[K]>): void {
    this.indexFns.set(name, fn);
    const idx = new Map<string, Set<string>>();
    this.indexes.set(name, idx);
    for (const [k, o] of this.cache) for (const v of fn(o)) this.indexAdd(idx, v, k);
  }

  get(key: string): KindMap[K] | undefined {
    return this.cache.get(key);
  }

  list(): KindMap[K][] {
    return [...this.cache.values()];
  }

  get size(): number {
    return this.cache.size;
  }

  byIndex(name: string, value: string): KindMap[K][] {
    const keys = this.indexes.get(name)?.get(value);
    if (!keys) return [];
    const out: KindMap[K][] = [];
    for (const k of keys) {
      const o = this.cache.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  /** Starts the list/watch loop; resolves once the first list is in the cache. */
  start(): Promise<void> {
    if (this.loop) return this.waitForSync();
    this.loop = this.run();
    return this.waitForSync();
  }

  private waitForSync(): Promise<void> {
    return new Promise((resolve) => {
      if (this.synced || this.stopped) return resolve();
      this.revisionWaiters.push({ revision: 0, resolve });
    });
  }

  /** Resolves when the cache has seen every change up to revision. */
  waitForRevision(revision: number): Promise<void> {
    return new Promise((resolve) => {
      if ((this.synced && this.rev >= revision) || this.stopped) return resolve();
      this.revisionWaiters.push({ revision, resolve });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.stopWatch?.();
    await this.loop;
    for (const w of this.revisionWaiters.splice(0)) w.resolve();
  }

  private async run(): Promise<void> {
    const sleep = this.opts.sleep ?? defaultSleep;
    const initial = this.opts.initialBackoffMs ?? 200;
    const max = this.opts.maxBackoffMs ?? 10_000;
    let backoff = initial;
    let attempt = 0;
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) await this.relist();
        needList = false;
        const err = await this.watchUntilError(() => {
          backoff = initial;
          attempt = 0;
        });
        if (this.stopped) return;
        if (err.code === 'Expired') {
          needList = true;
          continue;
        }
        throw err;
      } catch (e) {
        if (this.stopped) return;
        attempt++;
        this.opts.onError?.(e as ApiError, attempt);
        await Promise.race([sleep(backoff), new Promise<void>((r) => (this.wake = r))]);
        backoff = Math.min(backoff * 2, max);
      }
    }
  }

  private async relist(): Promise<void> {
    const { items, revision } = await this.store.list(this.kind, { namespace: this.opts.namespace ?? '' });
    this.lists++;
    const seen = new Set<string>();
    for (const o of items) {
      const k = objectKey(o);
      seen.add(k);
      const old = this.cache.get(k);
      if (!old) this.apply({ type: 'ADDED', object: o, revision });
      else if (old.metadata?.resourceVersion !== o.metadata?.resourceVersion) {
        this.apply({ type: 'MODIFIED', object: o, revision });
      }
    }
    for (const [k, o] of [...this.cache]) if (!seen.has(k)) this.apply({ type: 'DELETED', object: o, revision });
    this.rev = revision;
    this.synced = true;
    this.releaseWaiters();
  }

  private watchUntilError(onActivity: () => void): Promise<ApiError> {
    return new Promise<ApiError>((resolve) => {
      const w = this.store.watch(this.kind, {
        namespace: this.opts.namespace ?? '',
        afterRevision: this.rev,
        onEvent: (ev) => {
          onActivity();
          this.apply(ev);
          this.rev = ev.revision;
          this.releaseWaiters();
        },
        onError: resolve,
      });
      // stop() must also end this wait, or the loop would hang on a watch that never fails.
      this.stopWatch = async () => {
        await w.close();
        resolve(errors.unavailable('informer stopped'));
      };
      w.ready.catch(() => undefined);
    });
  }

  private apply(ev: WatchEvent<KindMap[K]>): void {
    const k = objectKey(ev.object);
    const old = this.cache.get(k);
    if (ev.type === 'DELETED') {
      if (!old) return;
      this.cache.delete(k);
      this.reindex(k, old, undefined);
      for (const h of this.handlers) h.onDelete?.(old.metadata?.uid === ev.object.metadata?.uid ? ev.object : old);
      return;
    }
    this.cache.set(k, ev.object);
    this.reindex(k, old, ev.object);
    for (const h of this.handlers) {
      if (old) h.onUpdate?.(old, ev.object);
      else h.onAdd?.(ev.object);
    }
  }

  private reindex(k: string, old: KindMap[K] | undefined, next: KindMap[K] | undefined): void {
    for (const [name, fn] of this.indexFns) {
      const idx = this.indexes.get(name)!;
      if (old) for (const v of fn(old)) idx.get(v)?.delete(k);
      if (next) for (const v of fn(next)) this.indexAdd(idx, v, k);
    }
  }

  private indexAdd(idx: Map<string, Set<string>>, v: string, k: string): void {
    let s = idx.get(v);
    if (!s) idx.set(v, (s = new Set()));
    s.add(k);
  }

  private releaseWaiters(): void {
    if (!this.synced) return;
    for (let i = this.revisionWaiters.length - 1; i >= 0; i--) {
      const w = this.revisionWaiters[i]!;
      if (this.rev >= w.revision) {
        this.revisionWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /** Kind name, for logs and metrics. */
  get plural(): string {
    return KINDS[this.kind].plural;
  }
}
