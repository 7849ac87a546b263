// Errors as Kubernetes' metav1.Status: the HTTP code and reason kube-apiserver uses for each of
// Skiff's stable error codes, with field causes for Invalid, so kubectl and client libraries
// print and branch on them as they do against Kubernetes.
import { ApiError, type ErrorCode } from '../../proto/api/errors.js';
import type { FieldCause } from '../../proto/gen/skiff/v1/api.js';
import type { JsonObject } from '../../proto/api/manifest.js';

/** Reasons beyond Skiff's own codes that only the HTTP layer produces. */
export type HttpReason = 'MethodNotAllowed' | 'RequestEntityTooLarge' | 'UnsupportedMediaType' | 'NotAcceptable' | 'Forbidden';

const HTTP_OF: Record<ErrorCode, { code: number; reason: string }> = {
  NotFound: { code: 404, reason: 'NotFound' },
  AlreadyExists: { code: 409, reason: 'AlreadyExists' },
  Conflict: { code: 409, reason: 'Conflict' },
  Invalid: { code: 422, reason: 'Invalid' },
  BadRequest: { code: 400, reason: 'BadRequest' },
  Unauthorized: { code: 401, reason: 'Unauthorized' },
  Forbidden: { code: 403, reason: 'Forbidden' },
  Unavailable: { code: 503, reason: 'ServiceUnavailable' },
  Timeout: { code: 504, reason: 'Timeout' },
  TooManyRequests: { code: 429, reason: 'TooManyRequests' },
  Expired: { code: 410, reason: 'Expired' },
  Internal: { code: 500, reason: 'InternalError' },
};

const HTTP_REASONS: Record<HttpReason, number> = {
  MethodNotAllowed: 405,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  NotAcceptable: 406,
  Forbidden: 403,
};

/** An error of the HTTP layer itself (wrong method, body too large, unknown media type). */
export class HttpError extends Error {
  constructor(
    readonly reason: HttpReason,
    message: string,
  ) {
    super(message);
  }
}

export interface StatusTarget {
  /** The API group of the resource ("" for core). */
  group: string;
  /** The resource's plural, as Kubernetes names it in details.kind. */
  resource: string;
  /** The kind the path addresses: errors about another object (its namespace) keep their own words. */
  kind: string;
}

function causeReason(c: FieldCause): string {
  if (c.message === 'required' || c.message.startsWith('Required value')) return 'FieldValueRequired';
  if (c.message.startsWith('unknown field')) return 'FieldValueNotSupported';
  return 'FieldValueInvalid';
}

export function successStatus(details: JsonObject = {}, code = 200): JsonObject {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code };
}

/** Any thrown value as a Status object with its HTTP code. */
export function toStatus(e: unknown, target?: StatusTarget): { code: number; body: JsonObject } {
  if (e instanceof HttpError) {
    const code = HTTP_REASONS[e.reason];
    return { code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: e.reason, code } };
  }
  const err = e instanceof ApiError ? e : new ApiError('Internal', e instanceof Error ? e.message : String(e));
  const { code, reason } = HTTP_OF[err.code];
  const details: JsonObject = {};
  if (err.objectName) details.name = err.objectName;
  if (target && err.kind === target.kind) {
    if (target.group) details.group = target.group;
    details.kind = target.resource;
  } else if (err.kind) details.kind = err.kind;
  let message = err.message;
  // kube-apiserver names the resource, not the kind: `deployments.apps "web" not found`.
  if (target && err.objectName && (err.code === 'NotFound' || err.code === 'AlreadyExists') && err.kind === target.kind && err.message.startsWith(`${err.kind} "`)) {
    const resource = target.group ? `${target.resource}.${target.group}` : target.resource;
    message = `${resource} "${err.objectName}" ${err.code === 'NotFound' ? 'not found' : 'already exists'}`;
  }
  if (err.code === 'Invalid' && err.causes.length) {
    details.causes = err.causes.map((c) => ({ reason: causeReason(c), message: c.message, field: c.field }));
    // kube-apiserver's form, which kubectl prints as is.
    message = `${err.kind}${err.objectName ? ` "${err.objectName}"` : ''} is invalid: ${err.causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`;
  }
  if (err.code === 'Unauthorized') return { code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code } };
  return { code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code } };
}
