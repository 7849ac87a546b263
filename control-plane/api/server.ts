// The gRPC server of skiff.v1.Api: authentication, metrics and error mapping around the
// handlers in crud.ts, delete.ts, apply.ts, watch-cache.ts and logs.ts. startApiServer runs it
// in-process for the program, tests and benchmarks.
import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import {
  Server, type Metadata, type handleBidiStreamingCall, type handleServerStreamingCall, type handleUnaryCall,
  type ServerDuplexStream, type ServerWritableStream, type StatusObject,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ApiError, errors, toGrpcStatus } from '../../proto/api/errors.js';
import { KIND_NAMES, KINDS, wrap, type AnyObject } from '../../proto/api/kinds.js';
import {
  ApiService, type ApiServer, type Resource, type WatchEvent, type WatchRequest,
} from '../../proto/gen/skiff/v1/api.js';
import { Namespace } from '../../proto/gen/skiff/v1/core.js';
import type { SharedInformers } from '../informers.js';
import { Metrics } from '../metrics.js';
import type { Store } from '../storage/store.js';
import { ResourceMetrics } from '../resource-metrics/provider.js';
import { defaultServiceRanges, type ServiceRanges } from './allocation/ranges.js';
import { apply } from './apply.js';
import type { ClientTls } from '../../proto/api/tls-client.js';
import type { Identity, Tokens } from './auth.js';
import { authenticateRequest, authenticationOn, peerCertificateOf, type Authenticators } from './authn.js';
import { BootstrapTokenAuthenticator } from './bootstrap-auth.js';
import { ClientCertAuthenticator } from './client-cert.js';
import { serverCredentials } from './server-tls.js';
import { kindOf, type ApiContext } from './context.js';
import { create, get, list, patch, requestObject, update } from './crud.js';
import { DEFAULT_NAMESPACE, applyDefaults } from './defaults.js';
import { deleteObject } from './delete.js';
import { ensureDefaultStorageClass } from './default-storage-class.js';
import { evictPod } from './eviction/evict.js';
import { proxyExec, proxyExecStream } from './exec.js';
import { proxyLogs } from './logs.js';
import { proxyPortForward } from './port-forward.js';
import { UNCACHED_KINDS } from './etcd-watch.js';
import { WatchCaches, type WatchCacheOptions } from './watch-cache.js';
import { serveWatch, type WatchDeps } from './watch.js';
import { startRestServer } from '../rest/server.js';
import type { TlsFiles } from '../rest/tls.js';
import { reviewAccess } from '../authz/access-review.js';
import type { Attributes } from '../authz/attributes.js';
import type { AuthorizationMode, Authorizer } from '../authz/authorizer.js';
import { IMPERSONATE_GROUP, IMPERSONATE_USER, impersonate } from '../authz/impersonation.js';
import { callAttributes, IN_HANDLER, objectAttributes, podAttributes } from '../authz/request-attributes.js';
import { ensureNamespace, startAuthorization, type RunningAuthorizer } from '../authz/setup.js';
import { BOOTSTRAP_TOKEN_NAMESPACE } from '../../proto/api/bootstrap-token.js';

export interface ApiServerOptions {
  store: Store;
  informers: SharedInformers;
  /** host:port; port 0 picks a free one. */
  listen: string;
  /** host:port of the Kubernetes REST API; unset or '' leaves it off. */
  restListen?: string;
  /** The serving certificate of the gRPC and REST APIs: both serve TLS only. */
  tls: TlsFiles;
  /** PEM CAs whose client certificates authenticate (--client-ca-file). */
  clientCa?: string;
  /** How node agents are reached: --kubelet-certificate-authority, --kubelet-client-certificate/--kubelet-client-key. */
  kubelet: ClientTls;
  /** token -> user; undefined (and no clientCa) turns authentication off. */
  tokens?: Tokens;
  log: Logger;
  metrics?: Metrics;
  identity?: string;
  /** Identity of the process running the controllers, for Version. */
  leader?: () => string;
  watchCache?: WatchCacheOptions;
  now?: () => Date;
  /** --service-cluster-ip-range and --service-node-port-range; Kubernetes' defaults when unset. */
  serviceRanges?: ServiceRanges;
  /** The metrics API's source; by default one over this server's informers and the node agents. */
  resourceMetrics?: ResourceMetrics;
  /** --authorization-mode; default Node,RBAC. Only with authentication (tokens or client certificates): without it every call is allowed. */
  authorizationModes?: readonly AuthorizationMode[];
  /** --enable-bootstrap-token-auth: bootstrap token Secrets in kube-system authenticate. */
  bootstrapTokenAuth?: boolean;
}

export interface RunningApiServer {
  port: number;
  /** The REST API's port; 0 when it is off. */
  restPort: number;
  stop(): Promise<void>;
}

/** A watch stream whose client does not read is ended past this many buffered events. */
const MAX_BUFFERED_EVENTS = 50_000;

function readVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'skiff' && pkg.version) return pkg.version;
    } catch {
      // try the next location (source tree vs dist/)
    }
  }
  return 'unknown';
}

function requestKind(verb: string, req: unknown): string {
  const r = req as { kind?: unknown; object?: Resource };
  if (typeof r.kind === 'string') return kindOfSafe(r.kind);
  if (r.object?.object) return kindOfSafe(r.object.object.$case);
  return verb === 'logs' || verb === 'evict' || verb === 'exec' ? 'Pod' : '';
}

function kindOfSafe(alias: string): string {
  try {
    return kindOf(alias).kind;
  } catch {
    return 'unknown';
  }
}

/** Creates the "default" namespace when it is missing, as Kubernetes does at startup. */
export async function ensureDefaultNamespace(store: Store): Promise<void> {
  try {
    await store.get('Namespace', '', DEFAULT_NAMESPACE);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 'NotFound')) throw e;
    const ns = Namespace.fromPartial({ metadata: { name: DEFAULT_NAMESPACE } });
    applyDefaults(kindOf('Namespace'), ns);
    try {
      await store.create('Namespace', ns);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'AlreadyExists')) throw err;
    }
  }
}

export async function startApiServer(opts: ApiServerOptions): Promise<RunningApiServer> {
  const { log, tokens } = opts;
  const now = opts.now ?? (() => new Date());
  const authenticators: Authenticators = {
    tokens,
    clientCerts: opts.clientCa ? new ClientCertAuthenticator(opts.clientCa, now) : undefined,
    bootstrap: opts.bootstrapTokenAuth
      ? new BootstrapTokenAuthenticator((ns, name) => opts.informers.get('Secret').get(`${ns}/${name}`), now)
      : undefined,
  };
  type AuthCall = { metadata: Metadata; getAuthContext(): { sslPeerCertificate?: PeerCertificate } };
  const authenticate = (call: AuthCall): Identity => {
    const header = call.metadata.get('authorization')[0];
    return authenticateRequest(typeof header === 'string' ? header : undefined, peerCertificateOf(call.getAuthContext().sslPeerCertificate), authenticators);
  };
  const metrics = opts.metrics ?? new Metrics();
  const ctx: ApiContext = {
    store: opts.store,
    informers: opts.informers,
    log,
    now,
    serviceRanges: opts.serviceRanges ?? defaultServiceRanges(),
    kubelet: opts.kubelet,
    resourceMetrics: opts.resourceMetrics ?? new ResourceMetrics({
      informers: opts.informers,
      kubelet: opts.kubelet,
      onError: (node, err) => log.warn({ node, err: err instanceof Error ? err.message : String(err) }, 'cannot read resource usage from the node agent'),
    }),
  };
  const caches = new WatchCaches(opts.informers, opts.watchCache);
  const authz: RunningAuthorizer | undefined = authenticationOn(authenticators)
    ? await startAuthorization(opts.store, opts.informers, opts.authorizationModes ?? ['Node', 'RBAC'])
    : undefined;
  const authorizer: Authorizer | undefined = authz?.authorizer;
  /** Throws Forbidden unless the caller may; everything is allowed while authentication is off. */
  const check = (who: Identity, a: Attributes): void => authorizer?.check(who, a);
  /** The same, deciding a refusal again once the caches have caught up with etcd. */
  const checkFresh = async (who: Identity, a: Attributes): Promise<void> => authorizer?.checkFresh(who, a);
  /** The identity a call acts as: authenticated, then possibly impersonating (--as). */
  const caller = (call: AuthCall): Identity => {
    const md = call.metadata;
    const who = authenticate(call);
    const user = md.get(IMPERSONATE_USER)[0];
    const groups = md.get(IMPERSONATE_GROUP).map(String);
    return impersonate(who, typeof user === 'string' ? user : undefined, groups, check);
  };
  /** The single gate of every call: attributes from the request, or (apply, bidi streams) checked inside the handler. */
  const admit = async (verb: string, req: unknown, call: AuthCall): Promise<Identity> => {
    const who = caller(call);
    const a = callAttributes(verb, req);
    if (a !== IN_HANDLER) await checkFresh(who, a);
    return who;
  };
  const version = readVersion();
  await ensureDefaultNamespace(opts.store);
  // Bootstrap token Secrets live there; kube-apiserver makes it at start too.
  if (authenticators.bootstrap) await ensureNamespace(opts.store, BOOTSTRAP_TOKEN_NAMESPACE);
  await ensureDefaultStorageClass(opts.store);
  await opts.informers.start(authenticators.bootstrap ? ['Namespace', 'Secret'] : ['Namespace']);
  // Every kind's history starts now, so a client that lists and then watches from the list's
  // resourceVersion is served from memory instead of getting Expired on the first watch.
  await Promise.all(
    KIND_NAMES.filter((k) => !UNCACHED_KINDS.has(k) && !KINDS[k].readOnly).map((k) =>
      caches.get(k).catch((e: unknown) => log.warn({ kind: k, err: String(e) }, 'watch cache not ready yet')),
    ),
  );

  const finish = (verb: string, kind: string, started: bigint, e?: unknown): void => {
    const code = e === undefined ? 'OK' : e instanceof ApiError ? e.code : 'Internal';
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    metrics.apiRequests.inc({ verb, kind, code });
    metrics.apiLatency.observe({ verb, kind, code }, seconds);
    if (code === 'Internal') log.error({ verb, kind, err: e }, 'API call failed with an internal error');
    else log.debug({ verb, kind, code, ms: Math.round(seconds * 1000) }, 'api call');
  };

  function unary<Req, Res>(verb: string, fn: (req: Req, who: Identity) => Promise<Res>): handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const started = process.hrtime.bigint();
      const kind = requestKind(verb, call.request);
      Promise.resolve()
        .then(() => admit(verb, call.request, call))
        .then((who) => fn(call.request, who))
        .then(
          (res) => {
            finish(verb, kind, started);
            callback(null, res);
          },
          (e: unknown) => {
            finish(verb, kind, started, e);
            callback(toGrpcStatus(e));
          },
        );
    };
  }

  function streaming<Req, Res>(
    verb: string,
    fn: (call: ServerWritableStream<Req, Res>, who: Identity) => Promise<void>,
  ): handleServerStreamingCall<Req, Res> {
    return (call) => {
      const started = process.hrtime.bigint();
      const kind = requestKind(verb, call.request);
      Promise.resolve()
        .then(() => admit(verb, call.request, call))
        .then((who) => fn(call, who))
        .then(
          () => {
            finish(verb, kind, started);
            if (!call.cancelled) call.end();
          },
          (e: unknown) => {
            finish(verb, kind, started, e);
            if (!call.cancelled) call.emit('error', toGrpcStatus(e) as StatusObject);
          },
        );
    };
  }

  function bidi<Req, Res>(verb: string, kind: string, fn: (call: ServerDuplexStream<Req, Res>, who: Identity) => Promise<void>): handleBidiStreamingCall<Req, Res> {
    return (call) => {
      const started = process.hrtime.bigint();
      Promise.resolve()
        .then(() => admit(verb, undefined, call))
        .then((who) => fn(call, who))
        .then(
          () => {
            finish(verb, kind, started);
            if (!call.cancelled) call.end();
          },
          (e: unknown) => {
            finish(verb, kind, started, e);
            if (!call.cancelled) call.emit('error', toGrpcStatus(e) as StatusObject);
          },
        );
    };
  }

  const typed = (r: Resource | undefined, o: AnyObject): Resource => wrap(requestObject(r).info.kind, o);

  const openWatches = new Set<() => void>();
  const watchDeps: WatchDeps = { store: opts.store, caches, metrics, openWatches };

  const watch = (call: ServerWritableStream<WatchRequest, WatchEvent>): Promise<void> =>
    serveWatch(watchDeps, call.request, {
      write: (ev) => call.write(ev),
      full: () => call.writableLength > MAX_BUFFERED_EVENTS,
      onClose: (cb) => {
        call.on('cancelled', cb);
        call.on('close', cb);
      },
    });

  const impl: ApiServer = {
    create: unary('create', async (req, who) => typed(req.object, await create(ctx, req, { who }))),
    get: unary('get', async (req) => wrap(kindOf(req.kind).kind, await get(ctx, req))),
    list: unary('list', (req) => list(ctx, req)),
    watch: streaming('watch', watch),
    update: unary('update', async (req, who) => typed(req.object, await update(ctx, req, { who, authorize: (a) => checkFresh(who, a) }))),
    patch: unary('patch', async (req, who) => wrap(kindOf(req.kind).kind, await patch(ctx, req, { who, authorize: (a) => checkFresh(who, a) }))),
    delete: unary('delete', async (req) => wrap(kindOf(req.kind).kind, await deleteObject(ctx, req))),
    apply: unary('apply', (req, who) => apply(ctx, req, {
      who,
      authorize: (v, info, ns, name, object) => checkFresh(who, { ...objectAttributes(v, info, ns, v === 'create' ? '' : name), object } as Attributes),
    })),
    logs: streaming('logs', (call) => proxyLogs(ctx, call)),
    evict: unary('evict', async (req) => wrap('Pod', await evictPod(ctx, req))),
    exec: unary('exec', (req) => proxyExec(ctx, req)),
    portForward: bidi('portforward', 'Pod', (call, who) => proxyPortForward(ctx, call, (ns, pod) => checkFresh(who, podAttributes('create', 'portforward', ns, pod)))),
    execStream: bidi('execstream', 'Pod', (call, who) => proxyExecStream(ctx, call, (ns, pod) => checkFresh(who, podAttributes('create', 'exec', ns, pod)))),
    version: unary('version', async () => {
      let etcdVersion = '';
      try {
        etcdVersion = (await opts.store.client.maintenance.status()).version;
      } catch (e) {
        throw errors.unavailable(`etcd is unavailable: ${(e as Error).message}`);
      }
      return {
        version,
        gitCommit: process.env.SKIFF_GIT_COMMIT ?? '',
        etcdVersion,
        leader: opts.leader?.() ?? '',
        identity: opts.identity ?? '',
      };
    }),
    selfSubjectAccessReview: unary('selfsubjectaccessreview', (req, who) => Promise.resolve(reviewAccess(authorizer, who, req))),
    whoAmI: unary('whoami', (_req, who) => Promise.resolve({ username: who.name, uid: '', groups: [...who.groups] })),
  };

  const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024, 'grpc.max_send_message_length': -1 });
  server.addService(ApiService, impl);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(opts.listen, serverCredentials(opts.tls, opts.clientCa), (err, p) => (err ? reject(err) : resolve(p)));
  });
  const auth = [tokens ? 'bearer tokens' : '', opts.clientCa ? 'client certificates' : '', opts.bootstrapTokenAuth ? 'bootstrap tokens' : ''].filter(Boolean).join(', ') || 'off';
  log.info({ listen: opts.listen, port, tls: true, auth, authorization: authorizer ? authorizer.modes.join(',') : 'off', kinds: KIND_NAMES.length }, 'API server listening');
  if (!authenticationOn(authenticators)) log.warn('authentication is OFF: every caller may do everything (start with --token-file or --client-ca-file)');

  const rest = opts.restListen
    ? await startRestServer({ ctx, watch: watchDeps, listen: opts.restListen, authenticators, log, version, tls: opts.tls, clientCa: opts.clientCa, authorizer })
    : undefined;

  return {
    port,
    restPort: rest?.port ?? 0,
    async stop() {
      await rest?.stop();
      for (const close of [...openWatches]) close();
      await caches.close();
      authz?.stop();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}
