// The API server's watch fan-out, like Kubernetes' watch cache: one informer handler per kind
// feeds every watcher of that kind, so thousands of watchers cost one etcd watch. A bounded
// history of recent events lets a client resume from a recent resourceVersion from memory;
// older than the history it gets Expired and re-lists. Filtering is per watcher, with the
// Kubernetes rule that an object that stops matching is sent as DELETED and one that starts
// matching as ADDED. Watchers pinned to one value of the kind's trigger field (a node agent's
// spec.nodeName=<node>) are indexed by it, so an event is only offered to the watchers it can
// concern (see watcher-index.ts).
import { errors } from '../../proto/api/errors.js';
import { KINDS, metaOf, type AnyObject, type Kind, type KindInfo } from '../../proto/api/kinds.js';
import type { SharedInformers } from '../informers.js';
import { fieldsMatch, type FieldRequirement } from '../storage/fields.js';
import type { Informer } from '../storage/informer.js';
import { matches, type Requirement } from '../storage/labels.js';
import { cachedCandidates, pinnedTrigger, triggerOf, type Trigger } from './triggers.js';
import { WatcherIndex } from './watcher-index.js';

export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchFilter {
  /** '' for every namespace. */
  namespace: string;
  labels: Requirement[];
  fields: FieldRequirement[];
}

/** Receives a watcher's events; the object of a BOOKMARK is undefined. */
export type WatchSink = (type: WatchType, object: AnyObject | undefined, revision: number) => void;

export interface WatchCacheOptions {
  /** Events kept for resuming watches (count). */
  maxEvents?: number;
  /** Events older than this are dropped from the history. */
  maxAgeMs?: number;
  /** How often watchers that allow bookmarks get one. */
  bookmarkIntervalMs?: number;
  now?: () => number;
  /** How long a new watch waits for its kind's informer to sync before failing Unavailable. */
  syncTimeoutMs?: number;
}

interface CachedEvent {
  /** Position in this cache's event stream; several events can share one etcd revision. */
  seq: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: AnyObject;
  old: AnyObject | undefined;
  revision: number;
  at: number;
}

interface Watcher {
  filter: WatchFilter;
  /** Last event (seq) this watcher has been given. */
  afterSeq: number;
  /** Events at or below this revision are not for this watcher (it resumed from there). */
  minRevision: number;
  bookmarks: boolean;
  sink: WatchSink;
  /** The trigger field value the filter requires; undefined when it does not pin one. */
  trigger: string | undefined;
}


/** Whether o passes a watcher's namespace, label and field filter. */
export function filterMatches(info: KindInfo, f: WatchFilter, o: AnyObject): boolean {
  const m = metaOf(o);
  if (f.namespace && m.namespace !== f.namespace) return false;
  if (f.labels.length && !matches(f.labels, m.labels)) return false;
  return f.fields.length === 0 || fieldsMatch(info, f.fields, o);
}

const rvOf = (o: AnyObject): number => Number(metaOf(o).resourceVersion) || 0;

export class KindWatchCache {
  private readonly history: CachedEvent[] = [];
  /** Every event with a revision above this is in the history. */
  private historyStart: number;
  private lastRevision: number;
  private seq = 0;
  private readonly watchers = new WatcherIndex<Watcher>();
  private readonly trigger: Trigger | undefined;
  private readonly maxEvents: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private attaching = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly informer: Informer<Kind>,
    readonly info: KindInfo,
    opts: WatchCacheOptions = {},
  ) {
    this.maxEvents = opts.maxEvents ?? 10_000;
    this.maxAgeMs = opts.maxAgeMs ?? 5 * 60_000;
    this.now = opts.now ?? Date.now;
    this.trigger = triggerOf(info.kind);
    this.historyStart = this.lastRevision = informer.revision;
    // addHandlers replays the cache as adds; those are the snapshot, not events.
    this.attaching = true;
    informer.addHandlers({
      onAdd: (o) => this.record('ADDED', o, undefined),
      onUpdate: (old, o) => this.record('MODIFIED', o, old),
      onDelete: (o) => this.record('DELETED', o, undefined),
    });
    this.attaching = false;
    this.timer = setInterval(() => this.bookmark(), opts.bookmarkIntervalMs ?? 30_000);
    this.timer.unref();
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  get revision(): number {
    return this.lastRevision;
  }

  /** Oldest revision a watch can resume from. */
  get oldestResumable(): number {
    return this.historyStart;
  }

  close(): void {
    clearInterval(this.timer);
    this.watchers.clear();
  }

  /**
   * Starts a watcher. resourceVersion '' or '0': the current matching objects as ADDED, then
   * changes; otherwise every change after that revision (Expired when older than the history).
   * Returns the function that stops it.
   */
  watch(filter: WatchFilter, resourceVersion: string, bookmarks: boolean, sink: WatchSink): () => void {
    const w: Watcher = { filter, afterSeq: this.seq, minRevision: 0, bookmarks, sink, trigger: pinnedTrigger(this.info.kind, filter.fields) };
    if (resourceVersion === '' || resourceVersion === '0') {
      for (const o of cachedCandidates(this.informer, this.info, filter.fields)) if (this.matches(filter, o)) sink('ADDED', o, rvOf(o));
    } else {
      const from = Number(resourceVersion);
      if (!Number.isInteger(from) || from < 0) throw errors.badRequest(`invalid resourceVersion "${resourceVersion}"`);
      if (from < this.historyStart) {
        throw errors.expired(
          `watch of ${this.info.plural} from resourceVersion ${from} is too old (the oldest this server can resume from is ${this.historyStart}); list again and watch from the list's resourceVersion`,
        );
      }
      for (const ev of this.eventsAfter(from)) this.deliver(w, ev);
      w.afterSeq = this.seq;
      w.minRevision = from;
    }
    if (bookmarks) sink('BOOKMARK', undefined, Math.max(this.lastRevision, w.minRevision));
    this.watchers.add(w, w.trigger);
    return () => {
      this.watchers.delete(w, w.trigger);
    };
  }

  private eventsAfter(rev: number): CachedEvent[] {
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid]!.revision <= rev) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  private matches(f: WatchFilter, o: AnyObject): boolean {
    return filterMatches(this.info, f, o);
  }

  private record(type: CachedEvent['type'], object: AnyObject, old: AnyObject | undefined): void {
    if (this.attaching) return;
    const rv = rvOf(object);
    // Only an informer re-list (after its watch expired) reports changes older than the last
    // event; a resume from before that point could miss them, so the history starts over.
    if (rv < this.lastRevision) this.historyStart = this.lastRevision;
    const revision = Math.max(rv, this.lastRevision);
    const at = this.now();
    const ev: CachedEvent = { seq: ++this.seq, type, object, old, revision, at };
    this.history.push(ev);
    this.lastRevision = revision;
    this.trim(at);
    const value = this.trigger?.value(object);
    const oldValue = old && this.trigger?.value(old);
    for (const w of this.watchers.candidates(value, oldValue)) {
      if (ev.seq > w.afterSeq && ev.revision > w.minRevision) this.deliver(w, ev);
    }
  }

  private trim(now: number): void {
    // Dropping one event per new one would move the whole array each time: let the count run
    // an eighth over before cutting back, and look at age only when the oldest has expired.
    const over = this.history.length > this.maxEvents + Math.floor(this.maxEvents / 8);
    const aged = (this.history[0]?.at ?? now) < now - this.maxAgeMs;
    if (!over && !aged) return;
    let drop = 0;
    while (
      drop < this.history.length &&
      (this.history.length - drop > this.maxEvents || this.history[drop]!.at < now - this.maxAgeMs)
    ) {
      drop++;
    }
    if (drop === 0) return;
    this.historyStart = this.history[drop - 1]!.revision;
    this.history.splice(0, drop);
  }

  private deliver(w: Watcher, ev: CachedEvent): void {
    w.afterSeq = ev.seq;
    const f = w.filter;
    if (ev.type === 'DELETED') {
      if (this.matches(f, ev.object)) w.sink('DELETED', ev.object, ev.revision);
      return;
    }
    const now = this.matches(f, ev.object);
    const before = ev.old !== undefined && this.matches(f, ev.old);
    if (now) w.sink(before ? 'MODIFIED' : 'ADDED', ev.object, ev.revision);
    else if (before && ev.old) {
      // It left the filter: the watcher sees it go, as of this revision.
      const gone = this.info.codec.decode(this.info.codec.encode(ev.old).finish());
      metaOf(gone).resourceVersion = String(ev.revision);
      w.sink('DELETED', gone, ev.revision);
    }
  }

  private bookmark(): void {
    for (const w of this.watchers.all()) if (w.bookmarks) w.sink('BOOKMARK', undefined, Math.max(w.minRevision, this.lastRevision));
  }
}

/** One KindWatchCache per kind, started on first use over the shared informers. */
export class WatchCaches {
  private readonly caches = new Map<Kind, Promise<KindWatchCache>>();

  private readonly syncTimeoutMs: number;

  constructor(
    private readonly informers: SharedInformers,
    private readonly opts: WatchCacheOptions = {},
  ) {
    this.syncTimeoutMs = opts.syncTimeoutMs ?? 10_000;
  }

  /** The cache of a kind; Unavailable when its informer cannot sync in time (etcd down). */
  async get(kind: Kind): Promise<KindWatchCache> {
    let c = this.caches.get(kind);
    if (!c) {
      const inf = this.informers.get(kind);
      c = inf.start().then(() => new KindWatchCache(inf, KINDS[kind] as KindInfo, this.opts));
      this.caches.set(kind, c);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(errors.unavailable(`cannot watch ${KINDS[kind].plural}: the cache has not synced with etcd within ${this.syncTimeoutMs} ms; is etcd reachable?`)),
        this.syncTimeoutMs,
      );
    });
    try {
      return await Promise.race([c, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Watchers per kind, for the metrics gauge. */
  async counts(): Promise<Map<Kind, number>> {
    const out = new Map<Kind, number>();
    for (const [k, c] of this.caches) out.set(k, (await c).watcherCount);
    return out;
  }

  async close(): Promise<void> {
    // A cache still waiting for its first sync has no watchers to close.
    const ready = await Promise.all([...this.caches.values()].map((c) => Promise.race([c, Promise.resolve(undefined)])));
    for (const c of ready) c?.close();
  }
}
