// The reconcile-loop runner (controller-runtime's contract in one file): informer handlers
// enqueue keys; `workers` loops take a key, call reconcile(key) and decide what happens next:
//   resolved {}                   -> forget the key's failures
//   resolved {requeueAfterMs: n}  -> forget failures, look again in n ms (deadlines)
//   threw TerminalError           -> forget, log; no retry (retrying cannot help)
//   threw anything else           -> retry with the key's exponential backoff
// Reconcile is level-based: it reads current state for the key and never trusts the event.
import type { Clock } from '../../../proto/api/clock.js';
import { TerminalError } from './errors.js';
import { rootLogger, type Logger } from './log.js';
import { queueDepth, reconcileDuration, reconcileTotal, type ReconcileResult } from './metrics.js';
import { WorkQueue, type WorkQueueOptions } from './workqueue.js';

export { TerminalError };

export interface Result {
  requeueAfterMs?: number;
}

export interface ControllerOptions {
  name: string;
  /** Parallel workers; one key is never processed by two at once. Default 1. */
  workers?: number;
  reconcile: (key: string) => Promise<Result | void>;
  queue?: Omit<WorkQueueOptions, 'onDepth'>;
  clock?: Clock;
  log?: Logger;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly log: Logger;
  private loops: Promise<void>[] = [];

  constructor(private readonly opts: ControllerOptions) {
    this.name = opts.name;
    this.log = (opts.log ?? rootLogger).child({ controller: opts.name });
    const depth = queueDepth.labels({ controller: opts.name });
    this.queue = new WorkQueue({ clock: opts.clock, ...opts.queue, onDepth: (n) => depth.set(n) });
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  get running(): boolean {
    return this.loops.length > 0 && !this.queue.isShuttingDown;
  }

  start(): void {
    if (this.loops.length) return;
    const n = Math.max(1, this.opts.workers ?? 1);
    for (let i = 0; i < n; i++) this.loops.push(this.worker());
  }

  /** Stops handing out keys and waits for the reconciles in flight to finish. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.loops);
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.processKey(key);
    }
  }

  /** Processes one key taken from the queue (exposed for tests that step by hand). */
  async processNext(): Promise<string | undefined> {
    if (this.queue.length === 0) return undefined;
    const key = await this.queue.get();
    if (key !== undefined) await this.processKey(key);
    return key;
  }

  private async processKey(key: string): Promise<void> {
    const end = reconcileDuration.startTimer({ controller: this.name });
    let result: ReconcileResult;
    try {
      const r = await this.opts.reconcile(key);
      this.queue.forget(key);
      if (r?.requeueAfterMs !== undefined && r.requeueAfterMs >= 0) {
        this.queue.addAfter(key, r.requeueAfterMs);
        result = 'requeue_after';
      } else {
        result = 'success';
      }
    } catch (e) {
      if (e instanceof TerminalError) {
        this.queue.forget(key);
        this.log.error({ key, err: e }, 'reconcile failed for good; not retrying');
        result = 'terminal';
      } else {
        const delay = this.queue.addRateLimited(key);
        this.log.warn({ key, err: e, retryInMs: delay }, 'reconcile failed; retrying');
        result = 'error';
      }
    } finally {
      this.queue.done(key);
      end();
    }
    reconcileTotal.inc({ controller: this.name, result });
  }
}
