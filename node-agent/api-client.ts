// The agent's side of the control plane's gRPC Api: promise-returning calls with a deadline and
// the bearer token, errors turned into ApiError (stable codes) by proto/api/errors.
import { Metadata, status, type ClientReadableStream } from '@grpc/grpc-js';
import { EndpointSet, controlPlaneList, movesOn } from '../proto/api/endpoint-set.js';
import { failoverChannelOptions } from '../proto/api/endpoints.js';
import { fromGrpcError } from '../proto/api/errors.js';
import { grpcCredentials, type ClientTls } from '../proto/api/tls-client.js';
import { KINDS, unwrapAs, wrap, type Kind, type KindMap } from '../proto/api/kinds.js';
import {
  ApiClient,
  type DeleteRequest,
  type Resource,
  type ResourceList,
  type WatchEvent,
  type WatchRequest,
} from '../proto/gen/skiff/v1/api.js';

type Callback<T> = (err: Error | null, res: T) => void;

export interface ApiOptions {
  address: string;
  token?: string;
  /** The cluster CA (and a client certificate, when the agent has one): the control plane serves TLS only. */
  tls: ClientTls;
  /** Deadline for each unary call. */
  timeoutMs?: number;
}

/** Deadline of a unary call unless the agent is told otherwise. */
export const DEFAULT_API_TIMEOUT_MS = 10_000;

/** Per call: a deadline other than the client's (the heartbeat's calls are shorter). */
export interface CallOptions {
  timeoutMs?: number;
}

export class AgentApi {
  /**
   * One channel per control plane; a call that finds its control plane unable to serve
   * (Unavailable, or no answer by its deadline) moves the agent to the next one, and watches
   * still open on the one left are ended so they resume from their last revision on the new one.
   */
  readonly endpoints: EndpointSet<ApiClient>;
  /** Channels of earlier client certificates: their calls in flight finish, they close with the agent. */
  private retired: ApiClient[] = [];
  private readonly addresses: string[];
  private readonly timeoutMs: number;
  /** Calls and watches that found the control plane unreachable, ever: an outage shows as a change. */
  unreachableCount = 0;
  private readonly watches = new Map<ClientReadableStream<WatchEvent>, number>();

  constructor(readonly opts: ApiOptions) {
    this.addresses = controlPlaneList(opts.address);
    this.endpoints = new EndpointSet(this.addresses, this.channelMaker(opts.tls));
    this.endpoints.onMove((from) => {
      // A cancelled watch ends as Unavailable: ListWatch resumes it from its last revision.
      for (const [s, at] of this.watches) if (at === from) s.cancel();
    });
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_API_TIMEOUT_MS;
  }

  /** Opens the channel to one control plane, presenting tls's client certificate if any. */
  private channelMaker(tls: ClientTls): (address: string) => ApiClient {
    const creds = grpcCredentials(this.opts.address, tls);
    const several = this.addresses.length > 1;
    // Keepalive lets a dead control plane show up as a broken watch, not a silent one. A local
    // subchannel pool gives each agent its own connection even when many share a process.
    return (address) => new ApiClient(address, creds, {
      // With several control planes a call that finds its own down fails at once and the next
      // goes to another (gRPC retrying it on the same dead address would only delay that).
      ...(several ? {} : failoverChannelOptions()),
      'grpc.use_local_subchannel_pool': 1,
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 5_000,
    });
  }

  /**
   * A renewed client certificate: calls from now on go over new channels presenting it. The
   * old channels are not closed here, so watches and calls in flight on them are not cut; a
   * watch that ends for any reason is re-opened on a new channel.
   */
  useClientCertificate(pair: { cert: string; key: string }): void {
    const old = this.endpoints.renew(this.channelMaker({ ...this.opts.tls, cert: pair.cert, key: pair.key }));
    // Two generations back has had a whole certificate lifetime to drain.
    for (const c of this.retired) c.close();
    this.retired = old;
  }

  /** The channel of the control plane in use now. */
  get client(): ApiClient {
    return this.endpoints.client();
  }

  metadata(): Metadata {
    const md = new Metadata();
    if (this.opts.token) md.set('authorization', `Bearer ${this.opts.token}`);
    return md;
  }

  private call<Res>(invoke: (md: Metadata, o: { deadline: number }, cb: Callback<Res>) => unknown, timeoutMs = this.timeoutMs): Promise<Res> {
    const at = this.endpoints.index;
    return new Promise((resolve, reject) => {
      invoke(this.metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (!err) return resolve(res);
        const e = fromGrpcError(err, this.endpoints.addresses[at]);
        if (movesOn(e.code)) {
          this.unreachableCount++;
          this.endpoints.failed(at);
        }
        reject(e);
      });
    });
  }

  async get<K extends Kind>(kind: K, namespace: string, name: string, opts: CallOptions = {}): Promise<KindMap[K]> {
    const r = await this.call<Resource>((md, o, cb) => this.client.get({ kind, namespace, name }, md, o, cb), opts.timeoutMs);
    return unwrapAs(kind, r);
  }

  async create<K extends Kind>(kind: K, obj: KindMap[K], opts: CallOptions = {}): Promise<KindMap[K]> {
    const r = await this.call<Resource>((md, o, cb) => this.client.create({ object: wrap(kind, obj), dryRun: false }, md, o, cb), opts.timeoutMs);
    return unwrapAs(kind, r);
  }

  async update<K extends Kind>(kind: K, obj: KindMap[K], subresource = '', opts: CallOptions = {}): Promise<KindMap[K]> {
    const r = await this.call<Resource>((md, o, cb) =>
      this.client.update({ object: wrap(kind, obj), dryRun: false, subresource }, md, o, cb),
    opts.timeoutMs);
    return unwrapAs(kind, r);
  }

  /** A JSON merge patch (RFC 7386) over the object's Kubernetes JSON form. */
  async mergePatch<K extends Kind>(kind: K, namespace: string, name: string, patch: object): Promise<KindMap[K]> {
    const req = { kind, namespace, name, patchType: 'merge', patch: JSON.stringify(patch), subresource: '', dryRun: false };
    const r = await this.call<Resource>((md, o, cb) => this.client.patch(req, md, o, cb));
    return unwrapAs(kind, r);
  }

  async delete(req: Partial<DeleteRequest> & { kind: string; namespace: string; name: string }): Promise<void> {
    const full: DeleteRequest = {
      propagationPolicy: '', resourceVersion: '', uid: '', dryRun: false, gracePeriodSeconds: undefined, ...req,
    };
    await this.call<Resource>((md, o, cb) => this.client.delete(full, md, o, cb));
  }

  async list<K extends Kind>(
    kind: K,
    opts: { namespace?: string; labelSelector?: string; fieldSelector?: string; resourceVersion?: string } = {},
  ): Promise<{ items: KindMap[K][]; resourceVersion: string }> {
    const req = {
      kind: KINDS[kind].kind, namespace: opts.namespace ?? '', labelSelector: opts.labelSelector ?? '', fieldSelector: opts.fieldSelector ?? '',
      resourceVersion: opts.resourceVersion ?? '',
    };
    const r = await this.call<ResourceList>((md, o, cb) => this.client.list(req, md, o, cb));
    return { items: r.items.map((i) => unwrapAs(kind, i)), resourceVersion: r.resourceVersion };
  }

  watch(req: WatchRequest): ClientReadableStream<WatchEvent> {
    const at = this.endpoints.index;
    const stream = this.endpoints.client(at).watch(req, this.metadata());
    this.watches.set(stream, at);
    const forget = (): void => {
      this.watches.delete(stream);
    };
    stream.on('error', (err: { code?: number }) => {
      forget();
      // Not CANCELLED: that is the agent ending its own watch (or moving it).
      if (err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED) {
        this.unreachableCount++;
        this.endpoints.failed(at);
      }
    });
    stream.on('end', forget);
    stream.on('close', forget);
    return stream;
  }

  close(): void {
    for (const c of this.retired.splice(0)) c.close();
    this.endpoints.close();
  }
}
