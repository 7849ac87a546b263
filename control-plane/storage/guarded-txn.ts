// One etcd transaction of several guarded writes plus unguarded ones (deletes of released
// reservations): all or nothing. When it fails, the failure branch reads every guarded key, so
// the caller learns exactly which guards did not hold (the object's own: Conflict or
// AlreadyExists; a reservation's: that value is taken).
import type { Etcd3, IRequestOp } from 'etcd3';
import { fenceCompare, fenceHolds, fenceRead, NotLeaderError, type Fence } from './fence.js';
import { compareOf, guardHolds, type TxnOp } from './txn-batcher.js';

export interface GuardedOp {
  key: Buffer;
  guard: TxnOp['guard'];
  request: IRequestOp;
}

export interface GuardedOutcome {
  succeeded: boolean;
  revision: number;
  /** Indexes (into the guarded ops) whose guard failed; empty on success. */
  failed: number[];
}

/** With a fence (fence.ts) the whole transaction also requires the leader's election key: NotLeaderError otherwise. */
export async function commitGuarded(client: Etcd3, ops: GuardedOp[], unguarded: IRequestOp[], deadline: number, fence?: Fence): Promise<GuardedOutcome> {
  const res = await client.kv.txn(
    {
      compare: [...ops.map((o) => compareOf({ ...o, size: 0 })), ...(fence ? [fenceCompare(fence)] : [])],
      success: [...ops.map((o) => o.request), ...unguarded],
      failure: [...ops.map((o): IRequestOp => ({ request_range: { key: o.key, keys_only: true } })), ...(fence ? [fenceRead(fence)] : [])],
    },
    { deadline },
  );
  const revision = Number(res.header.revision);
  if (!res.succeeded && fence && !fenceHolds(fence, res.responses[ops.length]?.response_range)) throw new NotLeaderError(fence);
  if (res.succeeded) return { succeeded: true, revision, failed: [] };
  const failed: number[] = [];
  ops.forEach((o, i) => {
    if (!guardHolds({ ...o, size: 0 }, res.responses[i]?.response_range)) failed.push(i);
  });
  return { succeeded: false, revision, failed };
}
