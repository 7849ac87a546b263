// The one error module of the API. Every error a user can see has a stable code, says what was
// wrong and where (kind/name, field path, manifest source) and travels over gRPC as a status
// code plus an ErrorDetails message in the "skiff-error-bin" trailer. Servers throw ApiError;
// clients get the same ApiError back from fromGrpcError.
import { Metadata, status as Status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { ErrorDetails, type FieldCause } from '../gen/skiff/v1/api.js';

export const ERROR_TRAILER = 'skiff-error-bin';

export type ErrorCode =
  | 'NotFound' // the object does not exist
  | 'AlreadyExists' // create of a name that is taken
  | 'Conflict' // resourceVersion precondition failed: re-read and retry
  | 'Invalid' // the object breaks validation rules; causes lists every bad field
  | 'BadRequest' // the request itself is malformed (unknown kind, bad selector, bad patch)
  | 'Unauthorized' // missing or wrong bearer token
  | 'Forbidden' // authenticated, but not allowed to do this (RBAC, node restriction)
  | 'Unavailable' // etcd or the control plane cannot be reached
  | 'Timeout' // the operation did not finish in time
  | 'TooManyRequests' // refused for now (an eviction that would break availability): retry later
  | 'Expired' // watch revision compacted: re-list and watch again
  | 'Internal'; // a bug: report it

const GRPC_OF: Record<ErrorCode, Status> = {
  NotFound: Status.NOT_FOUND,
  AlreadyExists: Status.ALREADY_EXISTS,
  Conflict: Status.ABORTED,
  Invalid: Status.INVALID_ARGUMENT,
  BadRequest: Status.FAILED_PRECONDITION,
  Unauthorized: Status.UNAUTHENTICATED,
  Forbidden: Status.PERMISSION_DENIED,
  Unavailable: Status.UNAVAILABLE,
  Timeout: Status.DEADLINE_EXCEEDED,
  TooManyRequests: Status.RESOURCE_EXHAUSTED,
  Expired: Status.OUT_OF_RANGE,
  Internal: Status.INTERNAL,
};

const CODE_OF_GRPC = new Map<number, ErrorCode>(
  (Object.entries(GRPC_OF) as [ErrorCode, Status][]).map(([c, s]) => [s, c]),
);
CODE_OF_GRPC.set(Status.CANCELLED, 'Unavailable');
CODE_OF_GRPC.set(Status.UNKNOWN, 'Internal');
CODE_OF_GRPC.set(Status.INVALID_ARGUMENT, 'Invalid');

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly causes: FieldCause[] = [],
    readonly kind = '',
    readonly objectName = '',
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The message followed by one line per bad field, as the CLI prints it. */
  describe(): string {
    const lines = [this.message];
    for (const c of this.causes) {
      const where = [c.source, c.field].filter(Boolean).join(': ');
      lines.push(`  ${where ? `${where}: ` : ''}${c.message}`);
    }
    return lines.join('\n');
  }
}

export function isApiError(e: unknown, code?: ErrorCode): e is ApiError {
  return e instanceof ApiError && (code === undefined || e.code === code);
}

const objName = (kind: string, namespace: string, name: string): string =>
  `${kind} "${namespace ? `${namespace}/` : ''}${name}"`;

export const errors = {
  notFound: (kind: string, namespace: string, name: string) =>
    new ApiError('NotFound', `${objName(kind, namespace, name)} not found`, [], kind, name),
  alreadyExists: (kind: string, namespace: string, name: string) =>
    new ApiError('AlreadyExists', `${objName(kind, namespace, name)} already exists`, [], kind, name),
  conflict: (kind: string, namespace: string, name: string, detail: string) =>
    new ApiError(
      'Conflict',
      `${objName(kind, namespace, name)} was modified: ${detail}; read it again and retry`,
      [],
      kind,
      name,
    ),
  invalid: (kind: string, name: string, causes: FieldCause[]) =>
    new ApiError(
      'Invalid',
      `${kind}${name ? ` "${name}"` : ''} is invalid: ${causes.length} problem${causes.length === 1 ? '' : 's'}`,
      causes,
      kind,
      name,
    ),
  badRequest: (message: string) => new ApiError('BadRequest', message),
  /** A path the server does not serve (the REST gateway's 404). */
  notFoundPath: () => new ApiError('NotFound', 'the server could not find the requested resource'),
  unauthorized: (message: string) => new ApiError('Unauthorized', message),
  /** Kubernetes' form: `deployments.apps "web" is forbidden: User "bob" cannot delete resource ...`. */
  forbidden: (message: string, kind = '', name = '') => new ApiError('Forbidden', message, [], kind, name),
  unavailable: (message: string) => new ApiError('Unavailable', message),
  expired: (message: string) => new ApiError('Expired', message),
  tooManyRequests: (message: string, kind = '', name = '') => new ApiError('TooManyRequests', message, [], kind, name),
  internal: (message: string) => new ApiError('Internal', message),
};

export function cause(field: string, message: string, source = ''): FieldCause {
  return { field, message, source };
}

/** Server side: turns any thrown value into a gRPC status with the ErrorDetails trailer. */
export function toGrpcStatus(e: unknown): Partial<StatusObject> {
  const err = e instanceof ApiError ? e : errors.internal(e instanceof Error ? e.message : String(e));
  const metadata = new Metadata();
  const details = ErrorDetails.encode({
    code: err.code,
    message: err.message,
    causes: err.causes,
    kind: err.kind,
    name: err.objectName,
  }).finish();
  metadata.set(ERROR_TRAILER, Buffer.from(details));
  return { code: GRPC_OF[err.code], details: err.message, metadata };
}

/** Client side: turns a grpc-js error into an ApiError with the server's code and causes. */
export function fromGrpcError(e: unknown, target = ''): ApiError {
  if (e instanceof ApiError) return e;
  const se = e as Partial<ServiceError>;
  if (typeof se.code !== 'number') return errors.internal(e instanceof Error ? e.message : String(e));
  const raw = se.metadata?.get(ERROR_TRAILER)[0];
  if (raw instanceof Buffer) {
    const d = ErrorDetails.decode(raw);
    return new ApiError(d.code as ErrorCode, d.message, d.causes, d.kind, d.name);
  }
  const code = CODE_OF_GRPC.get(se.code) ?? 'Internal';
  if (code === 'Unavailable' || se.code === Status.DEADLINE_EXCEEDED) {
    const where = target ? ` at ${target}` : '';
    return new ApiError(code, `cannot reach the Skiff control plane${where}: ${se.details ?? se.message ?? ''}`);
  }
  return new ApiError(code, se.details ?? se.message ?? 'unknown error');
}
