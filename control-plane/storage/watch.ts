// A watch over one kind's key prefix, from a revision. Guarantees: every change after the
// start revision is delivered exactly once and in revision order, across dropped connections
// (the stream resumes from the last delivered revision); when that history has been compacted
// the watch ends with an Expired error so the caller re-lists.
import type { Watcher } from 'etcd3';
import type { IKeyValue, IWatchResponse } from 'etcd3/lib/rpc.js';
import { errors, type ApiError } from '../../proto/api/errors.js';
import type { Kind, KindInfo, KindMap } from '../../proto/api/kinds.js';
import { fromEtcdError } from './etcd-errors.js';
import type { Store } from './store.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
  /** Revision of the change (for DELETED, the revision of the delete). */
  revision: number;
}

export interface WatchOptions<T> {
  namespace?: string;
  /** Deliver changes with revision > afterRevision. */
  afterRevision: number;
  onEvent: (e: WatchEvent<T>) => void;
  /** Called at most once, when the watch cannot go on (Expired, or closed by etcd). */
  onError: (e: ApiError) => void;
  /** Called with the revision the stream has caught up to, when etcd reports progress. */
  onProgress?: (revision: number) => void;
}

// The etcd3 client resumes a dropped watch from the revision of the last response header,
// which can skip events still in flight when the stream dropped; we set the resume point
// ourselves from the last event delivered.
interface ResumableRequest {
  request: { start_revision?: string | number };
}

const CLOSE_WAIT_MS = 2000;

/** Waits for p to settle (either way) but no longer than ms. */
function settleWithin(p: Promise<unknown>, ms: number): Promise<unknown> {
  return Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, ms).unref())]);
}

export class StoreWatch<K extends Kind> {
  private watcher: Watcher | undefined;
  private closed = false;
  private lastRevision: number;
  readonly ready: Promise<void>;

  constructor(
    private readonly store: Store,
    private readonly info: KindInfo<K>,
    private readonly opts: WatchOptions<KindMap[K]>,
  ) {
    this.lastRevision = opts.afterRevision;
    this.ready = this.start();
  }

  get revision(): number {
    return this.lastRevision;
  }

  private async start(): Promise<void> {
    const prefix = this.store.keys.listPrefix(this.info, this.opts.namespace ?? '');
    let w: Watcher;
    try {
      w = await this.store.client
        .watch()
        .prefix(prefix)
        .startRevision(String(this.lastRevision + 1))
        .withPreviousKV()
        .create();
    } catch (e) {
      const err = await this.classify(e);
      this.fail(err);
      throw err;
    }
    if (this.closed) {
      await w.cancel();
      return;
    }
    this.watcher = w;
    w.on('data', (res: IWatchResponse) => {
      try {
        this.onData(res);
      } catch (e) {
        // A value that cannot be decoded (a Secret under a key this process lacks) ends the
        // watch with the reason instead of throwing inside the etcd client.
        this.fail(errors.internal(`watch ${this.info.plural}: ${e instanceof Error ? e.message : String(e)}`));
      }
    });
    w.on('disconnected', () => {
      (w as unknown as ResumableRequest).request.start_revision = String(this.lastRevision + 1);
    });
    w.on('error', (e: unknown) => {
      void this.classify(e).then((err) => this.fail(err));
    });
  }

  private onData(res: IWatchResponse): void {
    // etcd never splits one revision's events across responses, so everything at or below
    // the revision delivered before this response is a replay after a reconnect.
    const floor = this.lastRevision;
    for (const ev of res.events) {
      const kv: IKeyValue = ev.kv;
      const rev = Number(kv.mod_revision);
      if (rev <= floor) continue;
      this.lastRevision = rev;
      if (ev.type === 'Delete') {
        const object = ev.prev_kv
          ? this.store.decode(this.info, ev.prev_kv.value, rev, ev.prev_kv.key)
          : this.store.tombstone(this.info, kv.key.toString(), rev);
        this.opts.onEvent({ type: 'DELETED', object, revision: rev });
      } else {
        const object = this.store.decode(this.info, kv.value, rev, kv.key);
        const type = kv.create_revision === kv.mod_revision ? 'ADDED' : 'MODIFIED';
        this.opts.onEvent({ type, object, revision: rev });
      }
    }
    if (res.events.length === 0 && this.opts.onProgress) {
      const rev = Number(res.header.revision);
      if (rev > this.lastRevision) this.opts.onProgress(rev);
    }
  }

  // etcd cancels a watch on compaction without a reason text; a read at the resume revision
  // tells compaction apart from other failures.
  private async classify(e: unknown): Promise<ApiError> {
    try {
      await this.store.client.kv.range(
        { key: Buffer.from(this.store.keys.kindPrefix(this.info)), revision: this.lastRevision + 1, limit: 1 },
        { deadline: Date.now() + 5000 },
      );
    } catch (probe) {
      if (/compacted/i.test(String(probe))) {
        return errors.expired(
          `watch of ${this.info.plural} from revision ${this.lastRevision + 1} expired: that history was compacted; re-list and watch again`,
        );
      }
    }
    return fromEtcdError(e, `watch ${this.info.plural}`);
  }

  private fail(err: ApiError): void {
    if (this.closed) return;
    this.closed = true;
    const w = this.watcher;
    this.watcher = undefined;
    if (w) void w.cancel().catch(() => undefined);
    this.opts.onError(err);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // While etcd is unreachable the watch may never finish being created; start() cancels it
    // if it ever does, so close does not wait for that.
    await settleWithin(this.ready, CLOSE_WAIT_MS);
    const w = this.watcher;
    this.watcher = undefined;
    // Cancelling asks etcd; when etcd is unreachable that never answers, and a shutdown or a
    // stopped informer must not hang on it. The stream is abandoned either way.
    if (w) await settleWithin(w.cancel(), CLOSE_WAIT_MS);
  }
}
