// In-process API server for tests and benchmarks: a Store under a fresh etcd prefix, shared
// informers, the server on a free port and a promise-based client with the right token.
import { Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import { fromGrpcError } from '../../proto/api/errors.js';
import { grpcCredentials, type ClientTls } from '../../proto/api/tls-client.js';
import { TEST_CLIENT_TLS, TEST_KUBELET_TLS, TEST_SERVING } from '../../test/helpers/tls.js';
import {
  ApiClient, type ApplyRequest, type ApplyResponse, type CreateRequest, type DeleteRequest, type GetRequest,
  type ListRequest, type PatchRequest, type Resource, type ResourceList, type UpdateRequest, type VersionInfo,
  type WatchEvent, type WatchRequest,
} from '../../proto/gen/skiff/v1/api.js';
import type { SelfSubjectAccessReviewRequest, SubjectAccessReviewStatus, UserInfo } from '../../proto/gen/skiff/v1/rbac.js';
import { SharedInformers } from '../informers.js';
import { silentLogger } from '../log.js';
import type { Store } from '../storage/store.js';
import { startApiServer, type ApiServerOptions, type RunningApiServer } from './server.js';

type Unary<Req, Res> = (req: Req, md: Metadata, cb: (e: Error | null, r: Res) => void) => unknown;
type UnaryName = 'create' | 'get' | 'list' | 'update' | 'patch' | 'delete' | 'apply' | 'version' | 'selfSubjectAccessReview' | 'whoAmI';

function call<Req, Res>(client: ApiClient, name: UnaryName, req: Req, md: Metadata): Promise<Res> {
  const fn = client[name].bind(client) as unknown as Unary<Req, Res>;
  return new Promise((resolve, reject) => {
    fn(req, md, (e, r) => (e ? reject(fromGrpcError(e)) : resolve(r)));
  });
}

export class TestApi {
  readonly md = new Metadata();
  constructor(
    readonly client: ApiClient,
    token = '',
  ) {
    if (token) this.md.set('authorization', `Bearer ${token}`);
  }

  create = (r: Partial<CreateRequest>): Promise<Resource> =>
    call(this.client, 'create', { dryRun: false, ...r }, this.md);
  get = (r: Partial<GetRequest>): Promise<Resource> =>
    call(this.client, 'get', { kind: '', namespace: '', name: '', ...r }, this.md);
  list = (r: Partial<ListRequest>): Promise<ResourceList> =>
    call(this.client, 'list', { kind: '', namespace: '', labelSelector: '', fieldSelector: '', resourceVersion: '', ...r }, this.md);
  update = (r: Partial<UpdateRequest>): Promise<Resource> =>
    call(this.client, 'update', { dryRun: false, subresource: '', ...r }, this.md);
  patch = (r: Partial<PatchRequest>): Promise<Resource> =>
    call(this.client, 'patch', { kind: '', namespace: '', name: '', patchType: 'merge', patch: '{}', subresource: '', dryRun: false, ...r }, this.md);
  delete = (r: Partial<DeleteRequest>): Promise<Resource> =>
    call(this.client, 'delete', { kind: '', namespace: '', name: '', propagationPolicy: '', resourceVersion: '', uid: '', dryRun: false, ...r }, this.md);
  apply = (r: Partial<ApplyRequest>): Promise<ApplyResponse> =>
    call(this.client, 'apply', { documents: [], dryRun: false, fieldManager: 'test', ...r }, this.md);
  version = (): Promise<VersionInfo> =>
    call(this.client, 'version', {}, this.md);
  selfSubjectAccessReview = (r: Partial<SelfSubjectAccessReviewRequest>): Promise<SubjectAccessReviewStatus> =>
    call(this.client, 'selfSubjectAccessReview', r, this.md);
  whoAmI = (): Promise<UserInfo> =>
    call(this.client, 'whoAmI', {}, this.md);

  watch(r: Partial<WatchRequest>): ClientReadableStream<WatchEvent> {
    return this.client.watch(
      { kind: '', namespace: '', labelSelector: '', fieldSelector: '', resourceVersion: '', allowBookmarks: false, ...r },
      this.md,
    );
  }

  close(): void {
    this.client.close();
  }
}

export interface TestServer {
  server: RunningApiServer;
  informers: SharedInformers;
  api: TestApi;
  /** A client with this token (and, given, this client certificate; always the test CA). */
  connect(token?: string, tls?: ClientTls): TestApi;
  /** What a client needs to verify this server (the test CA). */
  clientTls: ClientTls;
  stop(): Promise<void>;
}

/** Starts the API server in-process over store on a free loopback port, serving TLS from the test CA. */
export async function startTestServer(store: Store, opts: Partial<ApiServerOptions> = {}): Promise<TestServer> {
  const informers = new SharedInformers(store);
  const server = await startApiServer({ store, informers, listen: '127.0.0.1:0', log: silentLogger(), tls: TEST_SERVING, kubelet: TEST_KUBELET_TLS, ...opts });
  const clients: TestApi[] = [];
  const connect = (token = '', tls: ClientTls = TEST_CLIENT_TLS): TestApi => {
    const address = `127.0.0.1:${server.port}`;
    const c = new TestApi(new ApiClient(address, grpcCredentials(address, tls)), token);
    clients.push(c);
    return c;
  };
  const api = connect([...(opts.tokens?.keys() ?? [])][0] ?? '');
  return {
    server,
    informers,
    api,
    connect,
    clientTls: TEST_CLIENT_TLS,
    async stop() {
      for (const c of clients) c.close();
      await server.stop();
      await informers.stop();
    },
  };
}

/** Collects a watch's events until stopped; `events` grows as they arrive. */
export function collect(stream: ClientReadableStream<WatchEvent>): { events: WatchEvent[]; error: () => unknown; stop(): void } {
  const events: WatchEvent[] = [];
  let error: unknown;
  stream.on('data', (e: WatchEvent) => events.push(e));
  stream.on('error', (e) => (error = fromGrpcError(e)));
  return { events, error: () => error, stop: () => stream.cancel() };
}
