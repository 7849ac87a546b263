// Maps failures of the etcd client to API errors: an unreachable etcd must surface as a clear
// Unavailable within the request deadline, never as a hang or an Internal error.
import { ApiError, errors } from '../../proto/api/errors.js';

const UNAVAILABLE = /unavailable|deadline|connect|ECONNREFUSED|ETIMEDOUT|circuit|closed|No connection|broken/i;

export function fromEtcdError(e: unknown, what: string): ApiError {
  if (e instanceof ApiError) return e;
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  if (UNAVAILABLE.test(msg)) return errors.unavailable(`etcd is unavailable while trying to ${what}: ${msg}`);
  if (/compacted/i.test(msg)) return errors.expired(`${what}: ${msg}`);
  return errors.internal(`etcd failed to ${what}: ${msg}`);
}
