// Fencing: a write made on behalf of a leader carries one more compare in its etcd transaction,
// "the election key still has the create revision it had when this leader took it". A leader
// deposed by a lease expiry (its key deleted by etcd, then created by the next leader) can no
// longer land a write, however late its request arrives: etcd refuses it in the same
// transaction that would have made it. This closes the window between etcd expiring a lease
// and the old leader noticing (a paused process, a partition, a slow keepalive).
import type { ICompare, IRangeResponse, IRequestOp } from 'etcd3';
import { ApiError } from '../../proto/api/errors.js';

export interface Fence {
  /** The election key. */
  key: Buffer;
  /** Its create_revision when this leader created it. */
  createRevision: number;
}

export function fenceCompare(f: Fence): ICompare {
  return { key: f.key, target: 'Create', result: 'Equal', create_revision: f.createRevision };
}

export function fenceRead(f: Fence): IRequestOp {
  return { request_range: { key: f.key, keys_only: true } };
}

export function fenceHolds(f: Fence, range: IRangeResponse | undefined): boolean {
  const kv = range?.kvs[0];
  return !!kv && Number(kv.create_revision) === f.createRevision;
}

/** A fenced write refused because its leader is no longer the leader. */
export class NotLeaderError extends ApiError {
  constructor(f: Fence) {
    super('Unavailable', `write refused: this process no longer leads (election key ${f.key.toString()} is no longer the one it created at revision ${f.createRevision})`);
    this.name = 'NotLeaderError';
  }
}

export function isNotLeader(e: unknown): e is NotLeaderError {
  return e instanceof NotLeaderError;
}
