// Group commit for single-object writes. Every Store write is one guarded etcd transaction
// (create: the key must not exist; update/delete: the key's mod_revision must be the one read).
// Writes issued while earlier ones are in flight are folded into one transaction with all their
// guards, so a burst of N independent writes costs a handful of etcd round trips (and raft
// entries) instead of N. A batch whose guards do not all hold reads every key in its failure
// branch, fails exactly the writes whose own guard failed, and sends the others again: each
// write succeeds or fails as if it had been sent alone, and the ones that share a commit share
// its revision (as the writes of one etcd transaction do).
import type { ICompare, IRangeResponse, IRequestOp, ITxnRequest, ITxnResponse } from 'etcd3';
import { fenceCompare, fenceHolds, fenceRead, NotLeaderError, type Fence } from './fence.js';

export interface TxnOp {
  key: Buffer;
  /** create: the key must not exist; mod: its mod_revision must equal modRevision. */
  guard: { kind: 'create' } | { kind: 'mod'; modRevision: number };
  /** The write done when the guard holds (a put or a delete of key). */
  request: IRequestOp;
  /** Bytes the request adds to a transaction (key + value), to keep batches under etcd's limit. */
  size: number;
}

export interface TxnOutcome {
  succeeded: boolean;
  /** The revision of the commit (or of the read that found the guard failed). */
  revision: number;
}

export interface TxnBatcherOptions {
  /** etcd's --max-txn-ops default is 128 (operations per branch). */
  maxOps?: number;
  /** etcd's default --max-request-bytes is 1.5 MiB; stay well under it. */
  maxBytes?: number;
  /** Transactions in flight at once; more writes wait and join the next batch. */
  maxInFlight?: number;
  timeoutMs?: number;
  /**
   * A transaction unanswered this long stops holding its keys and its in-flight slot. etcd never
   * answers a proposal a follower forwarded to a leader that then died: it waits for the
   * request's deadline. Without this, one such transaction holds back every later write of its
   * key (a node's Lease renewed every second) and, eight of them, every write, for the whole
   * deadline, although the new leader commits within a second or two. Letting later writes go
   * is safe: each is guarded by its own compare, so of two writes of one key from the same
   * revision at most one lands, whichever order etcd sees them in.
   */
  stuckAfterMs?: number;
  /** Every transaction also requires this leader's election key (fence.ts); NotLeaderError otherwise. */
  fence?: Fence;
}

type Txn = (req: ITxnRequest, options: { deadline: number }) => Promise<ITxnResponse>;

interface Pending {
  op: TxnOp;
  keyText: string;
  resolve: (o: TxnOutcome) => void;
  reject: (e: unknown) => void;
}

export interface TxnBatcherStats {
  /** Transactions sent. */
  txns: number;
  /** Writes committed or failed through them (a write sent again counts again). */
  ops: number;
  /** Batches whose guards did not all hold. */
  splits: number;
  /** Transactions that outlived stuckAfterMs and stopped holding back later writes. */
  stuck: number;
}

export function compareOf(op: TxnOp): ICompare {
  return op.guard.kind === 'create'
    ? { key: op.key, target: 'Create', result: 'Equal', create_revision: 0 }
    : { key: op.key, target: 'Mod', result: 'Equal', mod_revision: op.guard.modRevision };
}

/** Whether op's guard holds given a read of its key. */
export function guardHolds(op: TxnOp, range: IRangeResponse | undefined): boolean {
  const kv = range?.kvs[0];
  if (op.guard.kind === 'create') return !kv;
  return !!kv && Number(kv.mod_revision) === op.guard.modRevision;
}

export class TxnBatcher {
  private queue: Pending[] = [];
  private inFlight = 0;
  /** Keys written by transactions in flight: a later write to one waits for its answer. */
  private readonly busyKeys = new Set<string>();
  private scheduled = false;
  private readonly maxOps: number;
  private readonly maxBytes: number;
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  private readonly stuckAfterMs: number;
  private readonly fence: Fence | undefined;
  readonly stats: TxnBatcherStats = { txns: 0, ops: 0, splits: 0, stuck: 0 };

  constructor(
    private readonly txn: Txn,
    opts: TxnBatcherOptions = {},
  ) {
    this.maxOps = opts.maxOps ?? 128;
    this.maxBytes = opts.maxBytes ?? 1024 * 1024;
    this.maxInFlight = opts.maxInFlight ?? 8;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.stuckAfterMs = opts.stuckAfterMs ?? 1000;
    this.fence = opts.fence;
  }

  submit(op: TxnOp): Promise<TxnOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ op, keyText: op.key.toString('latin1'), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    // One macrotask's worth of writes (all the handlers run for one batch of events) share a txn.
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length && this.inFlight < this.maxInFlight) {
      const batch = this.take();
      if (batch.length === 0) return;
      for (const p of batch) this.busyKeys.add(p.keyText);
      this.inFlight++;
      let held = true;
      const release = (): void => {
        if (!held) return;
        held = false;
        clearTimeout(stuck);
        for (const p of batch) this.busyKeys.delete(p.keyText);
        this.inFlight--;
        if (this.queue.length) this.schedule();
      };
      const stuck = setTimeout(() => {
        this.stats.stuck++;
        release();
      }, this.stuckAfterMs);
      stuck.unref();
      void this.send(batch)
        .catch((e: unknown) => {
          for (const p of batch) p.reject(e);
        })
        .finally(release);
    }
  }

  /**
   * The next batch: queue order, at most one write per key, none to a key in flight (a later
   * write to the same key waits, so writes to one key land in the order they were issued,
   * unless the earlier one is stuck: see stuckAfterMs).
   */
  private take(): Pending[] {
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const keys = new Set<string>(this.busyKeys);
    let bytes = 0;
    for (const p of this.queue) {
      const fits = batch.length < this.maxOps && (batch.length === 0 || bytes + p.op.size <= this.maxBytes);
      if (!fits || keys.has(p.keyText)) {
        rest.push(p);
        keys.add(p.keyText);
        continue;
      }
      keys.add(p.keyText);
      bytes += p.op.size;
      batch.push(p);
    }
    this.queue = rest;
    return batch;
  }

  private async send(batch: Pending[]): Promise<void> {
    this.stats.txns++;
    this.stats.ops += batch.length;
    const fence = this.fence;
    // Reads of every key are only needed to tell which guard failed when there are several (or
    // a fence, which fails them all); the fence's own read comes last.
    const reads: IRequestOp[] = batch.length > 1 || fence ? batch.map((p) => ({ request_range: { key: p.op.key, keys_only: true } })) : [];
    const res = await this.txn(
      {
        compare: [...batch.map((p) => compareOf(p.op)), ...(fence ? [fenceCompare(fence)] : [])],
        success: batch.map((p) => p.op.request),
        failure: fence ? [...reads, fenceRead(fence)] : reads,
      },
      { deadline: Date.now() + this.timeoutMs },
    );
    const revision = Number(res.header.revision);
    if (!res.succeeded && fence && !fenceHolds(fence, res.responses[batch.length]?.response_range)) {
      for (const p of batch) p.reject(new NotLeaderError(fence));
      return;
    }
    if (res.succeeded || batch.length === 1) {
      for (const p of batch) p.resolve({ succeeded: res.succeeded, revision });
      return;
    }
    this.stats.splits++;
    const again: Pending[] = [];
    batch.forEach((p, i) => {
      if (guardHolds(p.op, res.responses[i]?.response_range)) again.push(p);
      else p.resolve({ succeeded: false, revision });
    });
    // Their guards held at that read: they go first, ahead of anything queued since.
    this.queue = [...again, ...this.queue];
    this.schedule();
  }
}
