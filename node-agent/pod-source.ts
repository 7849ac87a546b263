// The pods bound to this node, from the control plane: list, then watch from the list's
// resourceVersion (fieldSelector spec.nodeName=<node>, all namespaces). A stream that ends
// cleanly resumes from the last revision seen; Expired re-lists; an unreachable control plane
// is retried with back-off and re-listed once it answers, so the agent resyncs to the level.
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { fromGrpcError, isApiError } from '../proto/api/errors.js';
import { unwrapAs } from '../proto/api/kinds.js';
import type { WatchEvent } from '../proto/gen/skiff/v1/api.js';
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import type { AgentApi } from './api-client.js';
import { sleep, type Clock } from '../proto/api/clock.js';

export interface PodHandlers {
  /** The complete set of pods bound here (after each list). */
  onList(pods: Pod[]): void;
  onUpsert(pod: Pod): void;
  onDelete(pod: Pod): void;
  /** Reachability changes (false after a failure, true after a successful list). */
  onReachable?(reachable: boolean): void;
}

export class PodSource {
  private resourceVersion = '';
  private stopped = false;
  private stream: ClientReadableStream<WatchEvent> | undefined;
  private readonly abort = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  failures = 0;
  synced = false;

  constructor(
    private readonly api: AgentApi,
    private readonly nodeName: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly h: PodHandlers,
  ) {}

  get fieldSelector(): string {
    return `spec.nodeName=${this.nodeName}`;
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
          this.log.info('pod watch expired; re-listing');
          this.resourceVersion = '';
          continue;
        }
        this.failures++;
        this.h.onReachable?.(false);
        // Re-list when the control plane answers again: whatever happened meanwhile is read whole.
        this.resourceVersion = '';
        const delay = Math.min(10_000, 250 * 2 ** Math.min(this.failures - 1, 6));
        if (this.failures === 1 || this.failures % 10 === 0) {
          this.log.warn({ err: e instanceof Error ? e.message : String(e), retryMs: delay }, 'pod watch failed');
        }
        await sleep(this.clock, delay, this.abort.signal);
      }
    }
  }

  private async relist(): Promise<void> {
    // From the server's cache, as a kubelet's reflector lists: a thousand agents re-listing at
    // once after a control-plane hiccup must not each read every pod from etcd.
    const list = await this.api.list('Pod', { fieldSelector: this.fieldSelector, resourceVersion: '0' });
    if (this.stopped) return;
    this.resourceVersion = list.resourceVersion;
    this.failures = 0;
    this.synced = true;
    this.h.onReachable?.(true);
    this.h.onList(list.items.filter((p) => p.spec?.nodeName === this.nodeName));
  }

  private watchOnce(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.stopped) return resolve();
      const s = this.api.watch({
        kind: 'Pod', namespace: '', labelSelector: '', fieldSelector: this.fieldSelector,
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
    const pod = unwrapAs('Pod', ev.object);
    if (!ev.resourceVersion && pod.metadata?.resourceVersion) this.resourceVersion = pod.metadata.resourceVersion;
    if (ev.type === 'DELETED' || pod.spec?.nodeName !== this.nodeName) this.h.onDelete(pod);
    else this.h.onUpsert(pod);
  }
}
