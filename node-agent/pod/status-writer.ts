// The agent's one status writer (the kubelet's status manager). Pod workers hand it the status
// they computed; it keeps the latest one per pod and posts it (Update, subresource status) only
// when it differs from what the API last acknowledged, so a burst of changes before a post goes
// out is one post. Due pods are posted together in a batch (bounded concurrency); a failed post
// stays due and is retried with back-off, so an unreachable control plane gets the latest
// status once it answers. A Conflict re-reads the pod and tries again at once.
import type { Logger } from 'pino';
import { isApiError } from '../../proto/api/errors.js';
import type { Clock, Timer } from '../../proto/api/clock.js';
import type { Pod, PodStatus } from '../../proto/gen/skiff/v1/core.js';
import type { AgentApi } from '../api-client.js';
import type { AgentEvents } from '../events.js';
import { statusEqual } from '../pod-status.js';
import { Semaphore } from '../../proto/api/semaphore.js';

export type StatusApi = Pick<AgentApi, 'update' | 'get'>;

export interface StatusWriterOptions {
  api: StatusApi;
  clock: Clock;
  log: Logger;
  events?: AgentEvents;
  /** Posts in flight at once. */
  maxInFlight?: number;
  /** First retry delay after a failed post; doubles per failure up to retryMaxMs. */
  retryInitialMs?: number;
  retryMaxMs?: number;
}

interface Entry {
  uid: string;
  namespace: string;
  name: string;
  /** The latest object known (its metadata is what the post carries). */
  pod: Pod;
  /** The status the worker wants stored. */
  desired?: PodStatus;
  /** The stored status as last acknowledged (a post's answer or the watch). */
  acked?: PodStatus;
  ackedRv: string;
  posting: boolean;
  failures: number;
  retry?: Timer;
}

const CONFLICT_RETRIES = 5;

/** resourceVersions are etcd revisions: a lower one is an older view of the object. */
function olderRv(a: string, b: string): boolean {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) < BigInt(b);
}

export class StatusWriter {
  private readonly entries = new Map<string, Entry>();
  private draining: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly maxInFlight: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;

  constructor(private readonly o: StatusWriterOptions) {
    this.maxInFlight = o.maxInFlight ?? 16;
    this.retryInitialMs = o.retryInitialMs ?? 500;
    // The kubelet re-syncs every status each 10 s; a failed post waits no longer than that.
    this.retryMaxMs = o.retryMaxMs ?? 10_000;
  }

  /** The worker's latest status for a pod (pod: the newest object the worker has). */
  set(pod: Pod, status: PodStatus): void {
    const e = this.entry(pod);
    e.desired = status;
    if (this.due(e)) this.schedule();
  }

  /** A pod as the API has it (watch, list): its status is what is stored now. */
  observe(pod: Pod): void {
    const m = pod.metadata!;
    const e = this.entries.get(m.uid);
    if (!e) {
      this.entry(pod);
      return;
    }
    if (olderRv(m.resourceVersion, e.ackedRv)) return;
    e.pod = pod;
    e.acked = pod.status;
    e.ackedRv = m.resourceVersion;
    // A terminating pod's status is the teardown's business (it confirms the deletion).
    if (m.deletionTimestamp) e.desired = undefined;
    if (this.due(e)) this.schedule();
  }

  /** Stops writing a pod's status (torn down, or gone from the API). */
  forget(uid: string): void {
    const e = this.entries.get(uid);
    e?.retry?.cancel();
    this.entries.delete(uid);
  }

  /** The status last acknowledged by the API for a pod (undefined when unknown). */
  acknowledged(uid: string): PodStatus | undefined {
    return this.entries.get(uid)?.acked;
  }

  /** Pods whose latest status is not stored yet. */
  get pending(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.desired && !statusEqual(e.desired, e.acked)) n++;
    return n;
  }

  /** Resolves when no post is in flight and none is due now (retries may still be waiting). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Stops posting; waits for the posts in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.entries.values()) e.retry?.cancel();
    await this.idle();
  }

  private entry(pod: Pod): Entry {
    const m = pod.metadata!;
    let e = this.entries.get(m.uid);
    if (!e) {
      e = { uid: m.uid, namespace: m.namespace, name: m.name, pod, acked: pod.status, ackedRv: m.resourceVersion, posting: false, failures: 0 };
      this.entries.set(m.uid, e);
    } else if (!olderRv(m.resourceVersion, e.pod.metadata?.resourceVersion ?? '')) {
      e.pod = pod;
    }
    return e;
  }

  private due(e: Entry): boolean {
    return !!e.desired && !e.posting && !e.retry && !statusEqual(e.desired, e.acked);
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    // Let the caller's synchronous burst of set() calls land first: they become one post each.
    await Promise.resolve();
    do {
      this.again = false;
      const batch = [...this.entries.values()].filter((e) => this.due(e));
      // A sliding window, not lock-step chunks: a post starts as soon as any one answers, so
      // one slow answer does not hold up the next maxInFlight pods (seen in the start trace).
      const window = new Semaphore(this.maxInFlight);
      await Promise.all(batch.map((e) => window.run(() => (this.stopped ? Promise.resolve() : this.post(e)))));
      // Statuses set while the batch was in flight.
      if ([...this.entries.values()].some((e) => this.due(e))) this.again = true;
    } while (this.again && !this.stopped);
  }

  private async post(e: Entry): Promise<void> {
    e.posting = true;
    try {
      await this.write(e);
      e.failures = 0;
    } catch (err) {
      e.failures++;
      const delay = Math.min(this.retryMaxMs, this.retryInitialMs * 2 ** Math.min(e.failures - 1, 16));
      if (e.failures === 1 || e.failures % 10 === 0) {
        this.o.log.warn({ pod: `${e.namespace}/${e.name}`, err: err instanceof Error ? err.message : String(err), retryMs: delay, failures: e.failures }, 'pod status not posted; will retry');
      }
      if (this.entries.get(e.uid) === e && !this.stopped) {
        e.retry = this.o.clock.setTimeout(() => {
          e.retry = undefined;
          this.schedule();
        }, delay);
      }
    } finally {
      e.posting = false;
    }
  }

  private async write(e: Entry): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const status = e.desired!;
      try {
        const saved = await this.o.api.update('Pod', { ...e.pod, status }, 'status');
        if (saved.metadata?.uid === e.uid) {
          e.pod = saved;
          e.ackedRv = saved.metadata.resourceVersion;
        }
        e.acked = status;
        this.o.events?.emit('statusPosted', { pod: `${e.namespace}/${e.name}`, phase: status.phase });
        return;
      } catch (err) {
        if (isApiError(err, 'NotFound')) {
          // The watch reports the deletion; nothing to write to.
          this.forget(e.uid);
          return;
        }
        if (!isApiError(err, 'Conflict') || attempt >= CONFLICT_RETRIES) throw err;
      }
      let fresh: Pod;
      try {
        fresh = await this.o.api.get('Pod', e.namespace, e.name);
      } catch (err) {
        if (isApiError(err, 'NotFound')) {
          this.forget(e.uid);
          return;
        }
        throw err;
      }
      if (fresh.metadata?.uid !== e.uid) {
        // The name now belongs to a newer pod.
        this.forget(e.uid);
        return;
      }
      this.observe(fresh);
      if (!e.desired || statusEqual(e.desired, e.acked)) return;
    }
  }
}
