// Follows every Pod through one API watch and notes, per pod, when this process first saw it
// and when it was first seen Running: the bench's view of pod startup.
import { status, type ClientReadableStream } from '@grpc/grpc-js';
import type { WatchEvent } from '../proto/gen/skiff/v1/api.js';
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import type { TestApi } from '../control-plane/api/testing.js';

export interface PodTimes {
  name: string;
  labels: Record<string, string>;
  /** metadata.creationTimestamp in ms (the API stores milliseconds). */
  createdTs: number;
  /** When the watch delivered the pod first (ms, this process's clock). */
  seenAt: number;
  /** When the watch first showed spec.nodeName set (scheduled). */
  boundAt?: number;
  runningAt?: number;
  nodeName: string;
  deleted: boolean;
}

/** How often waiting conditions are re-checked while events arrive. */
const WAKE_MS = 25;

export type PodListener = (type: string, pod: Pod, now: number) => void;

export class PodTracker {
  readonly pods = new Map<string, PodTimes>();
  private stream: ClientReadableStream<WatchEvent> | undefined;
  private listeners: PodListener[] = [];
  private waiters: (() => void)[] = [];
  private wakeTimer: NodeJS.Timeout | undefined;
  private lastRv = '';
  private stopped = false;
  /** Watches resumed after the server cut this one off (it fell behind). */
  resumes = 0;
  /** Of those, the ones that had to start over from the current objects. */
  relists = 0;
  error: Error | undefined;

  constructor(private readonly api: TestApi) {}

  start(): void {
    this.watchFrom('');
  }

  /** Resumes from the last revision seen when the server cuts a watcher that fell behind. */
  private watchFrom(resourceVersion: string): void {
    const stream = this.api.watch({ kind: 'Pod', resourceVersion, allowBookmarks: true });
    this.stream = stream;
    stream.on('data', (e: WatchEvent) => {
      if (e.resourceVersion) this.lastRv = e.resourceVersion;
      this.onEvent(e);
    });
    stream.on('error', (e: Error & { code?: number }) => {
      if (this.stopped || /CANCELLED|Cancelled/i.test(e.message)) return;
      if (this.resumes++ < 10) {
        // Too far behind for the server's history: start over with the current objects (their
        // times read as of now, later than they were: counted in resumes and relists).
        if (e.code === status.OUT_OF_RANGE) {
          this.relists++;
          this.watchFrom('');
          return;
        }
        if (e.code === status.UNAVAILABLE && this.lastRv) {
          this.watchFrom(this.lastRv);
          return;
        }
      }
      this.error = e;
    });
  }

  onPod(l: PodListener): void {
    this.listeners.push(l);
  }

  private onEvent(e: WatchEvent): void {
    const pod = e.object?.object?.$case === 'pod' ? e.object.object.value : undefined;
    const uid = pod?.metadata?.uid;
    if (!pod || !uid) return;
    const now = Date.now();
    let t = this.pods.get(uid);
    if (!t) {
      t = {
        name: pod.metadata?.name ?? '', labels: pod.metadata?.labels ?? {}, createdTs: Date.parse(pod.metadata?.creationTimestamp ?? ''),
        seenAt: now, nodeName: '', deleted: false,
      };
      this.pods.set(uid, t);
    }
    t.nodeName = pod.spec?.nodeName || t.nodeName;
    if (t.boundAt === undefined && t.nodeName) t.boundAt = now;
    if (e.type === 'DELETED') t.deleted = true;
    if (t.runningAt === undefined && pod.status?.phase === 'Running') t.runningAt = now;
    for (const l of this.listeners) l(e.type, pod, now);
    // Conditions scan every pod: checking one after each of 100,000 events would make the
    // tracker, not the cluster, the bottleneck. Times above are taken per event regardless.
    if (this.waiters.length && !this.wakeTimer) {
      this.wakeTimer = setTimeout(() => {
        this.wakeTimer = undefined;
        for (const w of this.waiters.splice(0)) w();
      }, WAKE_MS);
    }
  }

  /** Resolves once cond() holds (checked as events arrive, every WAKE_MS at most); rejects after timeoutMs. */
  async until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (!(await this.waitFor(cond, timeoutMs))) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }

  /** Like until, but answers false at the timeout, for a phase that reports how far it got. */
  async waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.error) throw new Error(`pod watch failed: ${this.error.message}`);
      const left = end - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  running(filter: (p: PodTimes) => boolean = () => true): PodTimes[] {
    return [...this.pods.values()].filter((p) => !p.deleted && p.runningAt !== undefined && filter(p));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.wakeTimer);
    this.stream?.cancel();
  }
}
