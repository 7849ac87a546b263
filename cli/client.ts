// The CLI's one way to the control plane: the generated ApiClient, a bearer token on every
// call, a deadline on every unary call (so an unreachable server fails within seconds instead of
// hanging) and errors turned into ApiError with the address that was tried.
import { Metadata, type ClientDuplexStream, type ClientReadableStream } from '@grpc/grpc-js';
import {
  ApiClient,
  type ApplyRequest,
  type ApplyResponse,
  type CreateRequest,
  type DeleteRequest,
  type EvictRequest,
  type ExecRequest,
  type ExecResponse,
  type ExecStreamFrame,
  type GetRequest,
  type ListRequest,
  type LogChunk,
  type LogsRequest,
  type PatchRequest,
  type PortForwardFrame,
  type Resource,
  type ResourceList,
  type UpdateRequest,
  type VersionInfo,
  type WatchEvent,
  type WatchRequest,
} from '../proto/gen/skiff/v1/api.js';
import type { SelfSubjectAccessReviewRequest, SubjectAccessReviewStatus, UserInfo } from '../proto/gen/skiff/v1/rbac.js';
import { EndpointSet, controlPlaneList, movesOn } from '../proto/api/endpoint-set.js';
import { controlPlaneTarget, failoverChannelOptions } from '../proto/api/endpoints.js';
import { ApiError, fromGrpcError } from '../proto/api/errors.js';
import { grpcCredentials, type ClientTls } from '../proto/api/tls-client.js';

export const DEFAULT_TIMEOUT_MS = 10_000;
/** What the node agent gives a command sent with timeoutSeconds 0. */
export const EXEC_DEFAULT_TIMEOUT_SECONDS = 300;
/** A server that accepts no connection within this long is reported unreachable. */
export const CONNECT_TIMEOUT_MS = 4_000;

export interface ConnectOptions {
  server: string;
  token: string;
  /** The CA to verify the server with (empty: the system's roots) and an optional client certificate. */
  tls?: ClientTls;
  /** Deadline of each unary call. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /** --as / --as-group: act as this user (and groups); the server checks the caller may impersonate. */
  impersonateUser?: string;
  impersonateGroups?: readonly string[];
}

type Unary<Req, Res> = (
  req: Req,
  md: Metadata,
  opts: { deadline: Date },
  cb: (err: Error | null, res: Res) => void,
) => unknown;
type Callback<Res> = (err: Error | null, res: Res) => void;

/**
 * "http://host:port" or "host:port" -> "host:port", the form grpc-js dials; a comma list of
 * control planes -> one target over all of them (proto/api/endpoints.ts).
 */
export function grpcTarget(server: string): string {
  try {
    return controlPlaneTarget(server);
  } catch (e) {
    throw new ApiError('BadRequest', `server ${server}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Calls that may be sent again to another control plane when the first could not serve them. */
const IDEMPOTENT = new Set(['get', 'list', 'version', 'apply', 'whoAmI', 'selfSubjectAccessReview']);

export class Api {
  readonly target: string;
  /**
   * One channel per control plane given (one in all for a single address or name). A call that
   * finds its control plane unable to serve (Unavailable, no answer in time) moves the CLI to
   * the next; an idempotent call is then sent again there, so a command survives a failover.
   */
  private readonly endpoints: EndpointSet<ApiClient>;
  /**
   * Streams (watch, logs, exec, port-forward): one channel over every control plane (pick_first,
   * with gRPC's retry of a watch before its first event), so a stream opens on whichever answers.
   */
  private readonly streams: ApiClient;
  private readonly token: string;
  private readonly impersonateUser: string;
  private readonly impersonateGroups: readonly string[];
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly connecting = new Map<number, Promise<void>>();

  constructor(opts: ConnectOptions) {
    this.target = grpcTarget(opts.server);
    this.token = opts.token;
    this.impersonateUser = opts.impersonateUser ?? '';
    this.impersonateGroups = opts.impersonateGroups ?? [];
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.connectTimeoutMs = Math.min(opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, this.timeoutMs);
    let creds;
    try {
      creds = grpcCredentials(opts.server, opts.tls ?? { ca: '' });
    } catch (e) {
      throw new ApiError('BadRequest', e instanceof Error ? e.message : String(e));
    }
    const addresses = controlPlaneList(opts.server);
    const base = {
      // The control plane sends messages of any size (a list of many large objects can pass
      // grpc-js' 4 MiB default), so the CLI takes whatever it is sent.
      'grpc.max_receive_message_length': -1,
      // Fail fast when nothing listens instead of backing off for a minute.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1000,
    };
    this.streams = new ApiClient(this.target, creds, { ...base, ...failoverChannelOptions() });
    // Several control planes: one channel each for unary calls, where a call on a dead one fails
    // at once and goes to the next here. One: the same channel as the streams.
    this.endpoints = new EndpointSet(addresses, (address) => (addresses.length > 1 ? new ApiClient(address, creds, base) : this.streams));
  }

  /** The channel of the control plane in use. */
  private get client(): ApiClient {
    return this.endpoints.client();
  }

  metadata(): Metadata {
    const md = new Metadata();
    if (this.token) md.set('authorization', `Bearer ${this.token}`);
    // kubectl's Impersonate-User / Impersonate-Group headers.
    if (this.impersonateUser) md.set('impersonate-user', this.impersonateUser);
    for (const g of this.impersonateGroups) md.add('impersonate-group', g);
    return md;
  }

  error(e: unknown): ApiError {
    const err = fromGrpcError(e, this.target);
    // grpc-js ends connection errors with an empty "Resolution note: ".
    err.message = err.message.replace(/\.?\s*Resolution note:\s*$/, '');
    return err;
  }

  /**
   * Resolves once the channel is connected; rejects when it is not within the connect timeout.
   * A refused connection fails the call itself at once (calls do not wait for ready); this
   * catches the silent case, a host that drops packets, in seconds rather than at the deadline.
   */
  connected(): Promise<void> {
    return this.ready(this.streams, -1, this.target);
  }

  /** Like connected(), for the unary channel of control plane `at`. */
  private connectedTo(at: number): Promise<void> {
    if (this.endpoints.addresses.length === 1) return this.connected();
    return this.ready(this.endpoints.client(at), at, this.endpoints.addresses[at]!);
  }

  private ready(client: ApiClient, key: number, address: string): Promise<void> {
    let p = this.connecting.get(key);
    if (!p) {
      p = new Promise((resolve, reject) => {
        client.waitForReady(new Date(Date.now() + this.connectTimeoutMs), (err) =>
          err
            ? reject(new ApiError('Unavailable', `cannot reach the Skiff control plane at ${address}: no connection within ${this.connectTimeoutMs / 1000}s`))
            : resolve(),
        );
      });
      this.connecting.set(key, p);
      // A failed connect is not remembered: a control plane that starts later, or one the CLI
      // comes back to after the others failed too, is reached by the next call.
      p.catch(() => this.connecting.delete(key));
    }
    return p;
  }

  private unary<Req, Res>(fn: Unary<Req, Res>, req: Req, timeoutMs = this.timeoutMs, method = ''): Promise<Res> {
    const tries = IDEMPOTENT.has(method) ? this.endpoints.addresses.length : 1;
    const attempt = (left: number): Promise<Res> => this.once(fn, req, timeoutMs).catch((e: unknown) => {
      const err = e instanceof ApiError ? e : this.error(e);
      if (left > 1 && movesOn(err.code)) return attempt(left - 1);
      throw err;
    });
    return attempt(tries);
  }

  private once<Req, Res>(fn: Unary<Req, Res>, req: Req, timeoutMs: number): Promise<Res> {
    const at = this.endpoints.index;
    return new Promise<Res>((resolve, reject) => {
      let settled = false;
      const fail = (err: ApiError): void => {
        if (movesOn(err.code)) this.endpoints.failed(at);
        reject(err);
      };
      const call = fn(req, this.metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => {
        settled = true;
        if (err) fail(this.error(err));
        else resolve(res);
      }) as { cancel(): void };
      this.connectedTo(at).catch((e: unknown) => {
        if (settled) return;
        settled = true;
        call.cancel();
        fail(e instanceof ApiError ? e : this.error(e));
      });
    });
  }

  get(req: Partial<GetRequest> & { kind: string; name: string }): Promise<Resource> {
    return this.unary<GetRequest, Resource>((r, md, o, cb: Callback<Resource>) => this.client.get(r, md, o, cb), { namespace: '', ...req }, undefined, 'get');
  }
  list(req: Partial<ListRequest> & { kind: string }): Promise<ResourceList> {
    return this.unary<ListRequest, ResourceList>((r, md, o, cb: Callback<ResourceList>) => this.client.list(r, md, o, cb), {
      namespace: '', labelSelector: '', fieldSelector: '', resourceVersion: '', ...req,
    }, undefined, 'list');
  }
  create(req: CreateRequest): Promise<Resource> {
    return this.unary<CreateRequest, Resource>((r, md, o, cb: Callback<Resource>) => this.client.create(r, md, o, cb), req);
  }
  update(req: UpdateRequest): Promise<Resource> {
    return this.unary<UpdateRequest, Resource>((r, md, o, cb: Callback<Resource>) => this.client.update(r, md, o, cb), req);
  }
  patch(req: Partial<PatchRequest> & { kind: string; name: string; patchType: string; patch: string }): Promise<Resource> {
    return this.unary<PatchRequest, Resource>((r, md, o, cb: Callback<Resource>) => this.client.patch(r, md, o, cb), {
      namespace: '', subresource: '', dryRun: false, ...req,
    });
  }
  delete(req: Partial<DeleteRequest> & { kind: string; name: string }): Promise<Resource> {
    return this.unary<DeleteRequest, Resource>((r, md, o, cb: Callback<Resource>) => this.client.delete(r, md, o, cb), {
      namespace: '', propagationPolicy: '', resourceVersion: '', uid: '', dryRun: false, gracePeriodSeconds: undefined, ...req,
    });
  }
  apply(req: ApplyRequest): Promise<ApplyResponse> {
    return this.unary<ApplyRequest, ApplyResponse>((r, md, o, cb: Callback<ApplyResponse>) => this.client.apply(r, md, o, cb), req, undefined, 'apply');
  }
  /** Pod eviction; TooManyRequests while it would break its Deployment's availability. */
  evict(req: Partial<EvictRequest> & { namespace: string; name: string }): Promise<Resource> {
    return this.unary<EvictRequest, Resource>((r, md, o, cb: Callback<Resource>) => this.client.evict(r, md, o, cb), {
      gracePeriodSeconds: undefined, dryRun: false, ...req,
    });
  }
  /** Runs a command in a container; the deadline leaves the command its own timeout and then some. */
  exec(req: ExecRequest): Promise<ExecResponse> {
    const timeoutMs = (req.timeoutSeconds || EXEC_DEFAULT_TIMEOUT_SECONDS) * 1000 + 60_000;
    return this.unary<ExecRequest, ExecResponse>((r, md, o, cb: Callback<ExecResponse>) => this.client.exec(r, md, o, cb), req, timeoutMs);
  }
  version(): Promise<VersionInfo> {
    return this.unary<Record<string, never>, VersionInfo>((r, md, o, cb: Callback<VersionInfo>) => this.client.version(r, md, o, cb), {}, undefined, 'version');
  }

  selfSubjectAccessReview(req: SelfSubjectAccessReviewRequest): Promise<SubjectAccessReviewStatus> {
    return this.unary<SelfSubjectAccessReviewRequest, SubjectAccessReviewStatus>((r, md, o, cb: Callback<SubjectAccessReviewStatus>) => this.client.selfSubjectAccessReview(r, md, o, cb), req, undefined, 'selfSubjectAccessReview');
  }

  whoAmI(): Promise<UserInfo> {
    return this.unary<Record<string, never>, UserInfo>((r, md, o, cb: Callback<UserInfo>) => this.client.whoAmI(r, md, o, cb), {}, undefined, 'whoAmI');
  }

  /** A server stream of watch events; no deadline (it lives until cancelled). */
  watch(req: Partial<WatchRequest> & { kind: string }): ClientReadableStream<WatchEvent> {
    return this.streams.watch(
      { namespace: '', labelSelector: '', fieldSelector: '', resourceVersion: '', allowBookmarks: false, ...req },
      this.metadata(),
    );
  }

  logs(req: LogsRequest): ClientReadableStream<LogChunk> {
    return this.streams.logs(req, this.metadata());
  }

  /** An interactive exec: write the start frame first, then input frames. */
  execStream(): ClientDuplexStream<ExecStreamFrame, ExecStreamFrame> {
    return this.streams.execStream(this.metadata());
  }

  /** One forwarded connection: write the target frame first, then data frames. */
  portForward(): ClientDuplexStream<PortForwardFrame, PortForwardFrame> {
    return this.streams.portForward(this.metadata());
  }

  close(): void {
    this.endpoints.close();
    if (this.endpoints.addresses.length > 1) this.streams.close();
  }
}

/**
 * Consumes a watch stream, calling onEvent for each event; resolves when the stream ends or is
 * cancelled by the caller, rejects with an ApiError when it fails.
 */
export function consume<T>(
  api: Api,
  stream: ClientReadableStream<T>,
  onEvent: (ev: T) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (e?: Error): void => {
      if (done) return;
      done = true;
      if (e) reject(e);
      else resolve();
    };
    stream.on('data', (ev: T) => {
      if (done) return;
      try {
        onEvent(ev);
      } catch (e) {
        stream.cancel();
        finish(e instanceof Error ? e : new Error(String(e)));
      }
    });
    stream.on('error', (e: Error & { code?: number }) => {
      // CANCELLED is what cancel() ends a stream with: the caller asked for it.
      finish(e.code === 1 ? undefined : api.error(e));
    });
    stream.on('end', () => finish());
    api.connected().catch((e: unknown) => {
      if (done) return;
      stream.cancel();
      finish(e instanceof Error ? e : new Error(String(e)));
    });
  });
}
