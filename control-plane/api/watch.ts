// One watch, whatever carries it (the gRPC stream or the REST gateway's chunked HTTP
// response): the initial objects, then the cache's (or etcd's) events through the filter,
// ended when the client goes, falls too far behind, or the history no longer reaches back.
import { ApiError, errors } from '../../proto/api/errors.js';
import { metaOf, wrap, type AnyObject, type KindInfo } from '../../proto/api/kinds.js';
import type { Resource, WatchEvent, WatchRequest } from '../../proto/gen/skiff/v1/api.js';
import type { Metrics } from '../metrics.js';
import { parseFieldSelector } from '../storage/fields.js';
import { parseLabelSelector } from '../storage/labels.js';
import type { Store } from '../storage/store.js';
import { kindOf } from './context.js';
import { EtcdWatchSource, UNCACHED_KINDS } from './etcd-watch.js';
import type { WatchCaches, WatchType } from './watch-cache.js';

export interface WatchDeps {
  store: Store;
  caches: WatchCaches;
  metrics: Metrics;
  /** Every open watch's closer, so a stopping server ends them all. */
  openWatches: Set<() => void>;
}

export interface WatchOutput {
  write(ev: WatchEvent): void;
  /** True when the client has stopped reading and the backlog is past what we keep. */
  full(): boolean;
  /** Registers what to do when the client goes away. */
  onClose(cb: () => void): void;
}

function bookmarkObject(info: KindInfo, revision: number): Resource {
  const o = info.codec.decode(new Uint8Array());
  metaOf(o).resourceVersion = String(revision);
  o.apiVersion = info.apiVersion;
  o.kind = info.kind;
  return wrap(info.kind, o);
}

/** Serves req into out until the client leaves (resolves) or the watch fails (rejects). */
export async function serveWatch(deps: WatchDeps, req: WatchRequest, out: WatchOutput): Promise<void> {
  const info = kindOf(req.kind);
  if (info.readOnly) throw errors.badRequest(`${info.kind} cannot be watched: it is measured on the nodes when read; list it again instead`);
  const filter = {
    namespace: info.namespaced ? req.namespace : '',
    labels: parseLabelSelector(req.labelSelector),
    fields: parseFieldSelector(info, req.fieldSelector),
  };
  const source = UNCACHED_KINDS.has(info.kind) ? new EtcdWatchSource(deps.store, info) : await deps.caches.get(info.kind);
  // An unset resourceVersion means "as of now": the initial objects come from a consistent
  // read of etcd (as kube-apiserver serves it), not from a cache that may not hold yet a write
  // the client has already seen acknowledged; the cache then follows from that revision.
  const initial = req.resourceVersion === '' && !(source instanceof EtcdWatchSource)
    ? await deps.store.list(info.kind, { namespace: filter.namespace, labelSelector: req.labelSelector, fieldSelector: req.fieldSelector })
    : undefined;
  await new Promise<void>((resolve, reject) => {
    let stop: (() => void) | undefined;
    let done = false;
    const end = (e?: ApiError): void => {
      if (done) return;
      done = true;
      stop?.();
      deps.openWatches.delete(closeWatch);
      deps.metrics.watchers.dec({ kind: info.kind });
      if (e) reject(e);
      else resolve();
    };
    const closeWatch = (): void => end();
    deps.openWatches.add(closeWatch);
    deps.metrics.watchers.inc({ kind: info.kind });
    out.onClose(() => end());
    try {
      const sink = (type: WatchType, object: AnyObject | undefined, revision: number): void => {
        if (done) return;
        if (out.full()) {
          end(errors.unavailable(`the watch of ${info.plural} fell too far behind; watch again from the last resourceVersion received`));
          return;
        }
        out.write({
          type,
          object: object ? wrap(info.kind, object) : bookmarkObject(info, revision),
          resourceVersion: String(revision),
        });
      };
      if (initial) for (const o of initial.items) sink('ADDED', o, Number(o.metadata?.resourceVersion) || 0);
      stop = source instanceof EtcdWatchSource
        ? source.watch(filter, req.resourceVersion, req.allowBookmarks, sink, (e) => end(e))
        : source.watch(filter, initial ? String(initial.revision) : req.resourceVersion, req.allowBookmarks, sink);
    } catch (e) {
      end(e instanceof ApiError ? e : errors.internal(String(e)));
    }
    if (done) stop?.();
  });
}
