// One kind from the control plane, the way a kubelet's reflector reads it: list (from the
// server's cache), then watch from the list's resourceVersion. A stream that ends cleanly
// resumes from the last revision seen; Expired re-lists; an unreachable control plane is
// retried with back-off (on another control plane when several are given) and the watch
// resumes from the last revision seen, so the agent resyncs to the level.
// The pod source (pods bound to this node) and the node watch (routes, own podCIDR) are two
// configurations of it.
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { fromGrpcError, isApiError } from '../proto/api/errors.js';
import { unwrapAs, type Kind, type KindMap } from '../proto/api/kinds.js';
import type { WatchEvent } from '../proto/gen/skiff/v1/api.js';
import type { AgentApi } from './api-client.js';
import { sleep, type Clock } from '../proto/api/clock.js';

export interface ListWatchHandlers<T> {
  /** The complete set (after each list). */
  onList(items: T[]): void;
  onUpsert(item: T): void;
  onDelete(item: T): void;
  /** Reachability changes (false after a failure, true after a successful list). */
  onReachable?(reachable: boolean): void;
}

export interface ListWatchTarget<K extends Kind> {
  kind: K;
  /** Server-side field selector ('' for all). */
  fieldSelector: string;
  /** Objects that still belong to the set; a MODIFIED one that no longer does counts as deleted. */
  belongs?: (o: KindMap[K]) => boolean;
  /** Names the set in logs ("pod", "node"). */
  what: string;
}

export class ListWatch<K extends Kind> {
  private resourceVersion = '';
  private stopped = false;
  private stream: ClientReadableStream<WatchEvent> | undefined;
  private readonly abort = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  failures = 0;
  synced = false;

  constructor(
    private readonly api: AgentApi,
    private readonly target: ListWatchTarget<K>,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly h: ListWatchHandlers<KindMap[K]>,
  ) {}

  get fieldSelector(): string {
    return this.target.fieldSelector;
  }

  private belongs(o: KindMap[K]): boolean {
    return this.target.belongs?.(o) ?? true;
  }

  start(): void {
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.stream?.cancel();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.resourceVersion) await this.relist();
        await this.watchOnce();
      } catch (e) {
        if (this.stopped) return;
        if (isApiError(e, 'Expired')) {
          this.log.info(`${this.target.what} watch expired; re-listing`);
          this.resourceVersion = '';
          continue;
        }
        this.failures++;
        this.h.onReachable?.(false);
        // The control plane (or the connection to it) went away: resume the watch from the last
        // revision seen, on whichever control plane answers next (a failover), which delivers
        // whatever happened meanwhile; if that revision is compacted it answers Expired and we
        // re-list. Any other failure re-lists when the control plane answers again.
        if (!isApiError(e, 'Unavailable')) this.resourceVersion = '';
        const delay = Math.min(10_000, 250 * 2 ** Math.min(this.failures - 1, 6));
        if (this.failures === 1 || this.failures % 10 === 0) {
          this.log.warn({ err: e instanceof Error ? e.message : String(e), retryMs: delay }, `${this.target.what} watch failed`);
        }
        await sleep(this.clock, delay, this.abort.signal);
      }
    }
  }

  private async relist(): Promise<void> {
    // From the server's cache, as a kubelet's reflector lists: a thousand agents re-listing at
    // once after a control-plane hiccup must not each read every pod from etcd.
    const list = await this.api.list(this.target.kind, { fieldSelector: this.fieldSelector, resourceVersion: '0' });
    if (this.stopped) return;
    this.resourceVersion = list.resourceVersion;
    this.failures = 0;
    this.synced = true;
    this.h.onReachable?.(true);
    this.h.onList(list.items.filter((o) => this.belongs(o)));
  }

  private watchOnce(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.stopped) return resolve();
      const s = this.api.watch({
        kind: this.target.kind, namespace: '', labelSelector: '', fieldSelector: this.fieldSelector,
        resourceVersion: this.resourceVersion, allowBookmarks: true,
      });
      this.stream = s;
      let settled = false;
      const finish = (err?: unknown): void => {
        if (settled) return;
        settled = true;
        this.stream = undefined;
        if (err === undefined || this.stopped) resolve();
        else reject(fromGrpcError(err, this.api.opts.address));
      };
      s.on('data', (ev: WatchEvent) => {
        if (this.failures > 0) {
          // A resumed watch answers: reachable again without a re-list.
          this.failures = 0;
          this.h.onReachable?.(true);
        }
        try {
          this.onEvent(ev);
        } catch (e) {
          s.cancel();
          finish(e);
        }
      });
      s.on('error', (e) => finish(e));
      s.on('end', () => finish());
    });
  }

  private onEvent(ev: WatchEvent): void {
    if (ev.resourceVersion) this.resourceVersion = ev.resourceVersion;
    if (ev.type === 'BOOKMARK' || !ev.object) return;
    const o = unwrapAs(this.target.kind, ev.object);
    const rv = (o as { metadata?: { resourceVersion: string } }).metadata?.resourceVersion;
    if (!ev.resourceVersion && rv) this.resourceVersion = rv;
    if (ev.type === 'DELETED' || !this.belongs(o)) this.h.onDelete(o);
    else this.h.onUpsert(o);
  }
}
