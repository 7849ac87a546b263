// Watches served straight from etcd, for kinds the API server does not cache: Events, as in
// Kubernetes, whose API server keeps no watch cache for them (they are many, short-lived and
// rarely watched; caching them cost the control plane about 3 KB per event). Each watcher has
// its own etcd watch; the first list (resourceVersion "" or "0") is a consistent read.
import { errors, isApiError, type ApiError } from '../../proto/api/errors.js';
import { metaOf, type Kind, type KindInfo } from '../../proto/api/kinds.js';
import type { Store } from '../storage/store.js';
import type { StoreWatch } from '../storage/watch.js';
import { filterMatches, type WatchFilter, type WatchSink } from './watch-cache.js';

/** Kinds whose watches and lists go to etcd rather than the API server's caches. */
export const UNCACHED_KINDS: ReadonlySet<Kind> = new Set<Kind>(['Event']);

const BOOKMARK_INTERVAL_MS = 30_000;

export class EtcdWatchSource {
  constructor(
    private readonly store: Store,
    readonly info: KindInfo,
  ) {}

  /**
   * Like KindWatchCache.watch; failures after the start (etcd compacted the revision asked for,
   * or is unreachable) go to onError. An object that stops matching the filter is not sent as
   * DELETED (the Kubernetes rule): the filterable fields of an Event never change.
   */
  watch(filter: WatchFilter, resourceVersion: string, bookmarks: boolean, sink: WatchSink, onError: (e: ApiError) => void): () => void {
    const fromRv = resourceVersion === '' || resourceVersion === '0' ? undefined : Number(resourceVersion);
    if (fromRv !== undefined && (!Number.isInteger(fromRv) || fromRv < 0)) throw errors.badRequest(`invalid resourceVersion "${resourceVersion}"`);
    let stopped = false;
    let w: StoreWatch<Kind> | undefined;
    let timer: NodeJS.Timeout | undefined;
    let last = fromRv ?? 0;
    const start = async (): Promise<void> => {
      if (fromRv === undefined) {
        const list = await this.store.list(this.info.kind, { namespace: filter.namespace, labelSelector: filter.labels, fieldSelector: filter.fields });
        if (stopped) return;
        for (const o of list.items) sink('ADDED', o, Number(metaOf(o).resourceVersion));
        last = list.revision;
      }
      if (bookmarks) sink('BOOKMARK', undefined, last);
      w = this.store.watch(this.info.kind, {
        namespace: filter.namespace,
        afterRevision: last,
        onEvent: (e) => {
          last = e.revision;
          if (!stopped && filterMatches(this.info, filter, e.object)) sink(e.type, e.object, e.revision);
        },
        onError: (e) => !stopped && onError(e),
      });
      if (stopped) void w.close();
      if (bookmarks) timer = setInterval(() => !stopped && sink('BOOKMARK', undefined, last), BOOKMARK_INTERVAL_MS);
    };
    start().catch((e: unknown) => {
      if (!stopped) onError(isApiError(e) ? e : errors.unavailable(`watch of ${this.info.plural}: ${e instanceof Error ? e.message : String(e)}`));
    });
    return () => {
      stopped = true;
      clearInterval(timer);
      void w?.close();
    };
  }
}
