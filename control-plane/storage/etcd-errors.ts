// Maps failures of the etcd client to API errors: an unreachable etcd must surface as a clear
// Unavailable within the request deadline, never as a hang or an Internal error.
import { ApiError, cause, errors } from '../../proto/api/errors.js';

const UNAVAILABLE = /unavailable|deadline|connect|ECONNREFUSED|ETIMEDOUT|circuit|closed|No connection|broken/i;

/** Several objects of one transaction (an apply) over etcd's request limit together. */
export function tooLargeForTxn(what: string, bytes?: number): ApiError {
  const size = bytes === undefined ? '' : ` (${bytes} bytes)`;
  return new ApiError('Invalid', `too large for one etcd transaction${size}, etcd's request limit is 1.5 MiB, while trying to ${what}`, [
    cause('', 'apply fewer or smaller objects at once'),
  ]);
}

/** Sent, but no answer in time: the request may still be carried out. */
const NO_ANSWER = /deadline|ETIMEDOUT|timed out/i;

/**
 * `write`: the request changes etcd. A write etcd did not answer in time may still land (a
 * frozen or slow etcd applies it later), so it is a Timeout whose message says so, never an
 * Unavailable that a user would read as "not applied".
 */
export function fromEtcdError(e: unknown, what: string, opts: { write?: boolean } = {}): ApiError {
  if (e instanceof ApiError) return e;
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  if (opts.write && NO_ANSWER.test(msg)) {
    return new ApiError('Timeout', `etcd did not answer in time while trying to ${what}; the change may still be applied: read the object before retrying (${msg})`);
  }
  if (UNAVAILABLE.test(msg)) return errors.unavailable(`etcd is unavailable while trying to ${what}: ${msg}`);
  if (/compacted/i.test(msg)) return errors.expired(`${what}: ${msg}`);
  if (/request is too large|message larger than max/i.test(msg)) return tooLargeForTxn(what);
  return errors.internal(`etcd failed to ${what}: ${msg}`);
}
