// The Kubernetes REST API of the control plane (--rest-listen): discovery, the object verbs,
// watch, subresources and tables over Node's http, for unmodified kubectl and client
// libraries. Authentication is the gRPC API's: `Authorization: Bearer <token>`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { errors } from '../../proto/api/errors.js';
import { authenticateRequest, peerCertificateOf, type Authenticators } from '../api/authn.js';
import type { ApiContext } from '../api/context.js';
import type { WatchDeps } from '../api/watch.js';
import { apiGroupList, apiVersions, groupDocument, resourceList, versionInfo, WITH_SCALE } from './discovery.js';
import { boolParam, sendJson } from './http.js';
import { openApiV2, openApiV3 } from './openapi.js';
import {
  createObject, deleteTarget, getObject, listDocument, listObjects, manifestOf, patchObject, updateObject, type ObjectTarget,
} from './resources.js';
import { route } from './router.js';
import { HttpError, toStatus, type StatusTarget } from './status.js';
import { evict, patchScale, podLogs, putScale, scaleOf } from './subresources.js';
import { buildTableResponse, tableApiVersion, wantsTable, type IncludeObject } from './table.js';
import type { TlsFiles } from './tls.js';
import { watchObjects } from './watch.js';
import type { Authorizer } from '../authz/authorizer.js';
import { restAttributes, restIdentity, serveReview } from './authorize.js';
import type { Caller } from '../api/crud.js';

export interface RestServerOptions {
  ctx: ApiContext;
  watch: WatchDeps;
  /** host:port; port 0 picks a free one. */
  listen: string;
  authenticators: Authenticators;
  log: Logger;
  /** Skiff's version, shown in /version. */
  version: string;
  /** PEM certificate and key: the REST API serves HTTPS only. */
  tls: TlsFiles;
  /** Asks clients for a certificate (verified by authenticators.clientCerts). */
  clientCa?: string;
  /** The gRPC API's authorizer; undefined: authorization is off (no authentication). */
  authorizer?: Authorizer;
}

export interface RunningRestServer {
  port: number;
  stop(): Promise<void>;
}

function splitHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(listen.slice(i + 1)) };
}

export async function startRestServer(opts: RestServerOptions): Promise<RunningRestServer> {
  const { ctx, log } = opts;

  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL, addressed: { target?: StatusTarget }): Promise<void> => {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/version') return void sendJson(res, 200, versionInfo(opts.version));
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return void res.end('ok');
    }
    const authenticated = authenticateRequest(req.headers.authorization, peerCertificateOf((req.socket as TLSSocket).getPeerCertificate()), opts.authenticators);
    const who = restIdentity(req, authenticated, opts.authorizer);
    if (await serveReview(path, req.method ?? 'GET', req, res, who, opts.authorizer)) return;
    const r = route(path);
    // Discovery and OpenAPI are non-resource paths (system:discovery lets every authenticated caller read them).
    if (r.type !== 'resource') await opts.authorizer?.checkFresh(who, { type: 'nonResource', verb: (req.method ?? 'GET').toLowerCase(), path });
    if (path === '/openapi/v2') return void openApiV2(req, res);
    if (path === '/openapi/v3') return void sendJson(res, 200, openApiV3());
    if (r.type === 'unknown') throw errors.notFoundPath();
    if (req.method !== 'GET' && r.type !== 'resource') throw new HttpError('MethodNotAllowed', `${req.method ?? ''} is not allowed on ${path}`);
    if (r.type === 'discovery-root') return void sendJson(res, 200, r.path === '/api' ? apiVersions(req.headers.host ?? '') : apiGroupList());
    if (r.type === 'group') return void sendJson(res, 200, groupDocument(r.group));
    if (r.type === 'resources') return void sendJson(res, 200, resourceList(r.gv));
    const { info, name, subresource } = r;
    addressed.target = { group: r.gv.group, resource: info.plural, kind: info.kind };
    const t: ObjectTarget = { info, namespace: r.namespace, name, subresource };
    if (info.namespaced && name && !t.namespace) throw errors.notFoundPath();
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    const accept = req.headers.accept;
    const table = wantsTable(accept);
    const include = (q.get('includeObject') ?? 'Metadata') as IncludeObject;
    if (!['None', 'Metadata', 'Object'].includes(include)) throw errors.badRequest(`includeObject must be None, Metadata or Object, got "${include}"`);
    const now = (): number => ctx.now().getTime();
    const sendObject = (code: number, o: Parameters<typeof manifestOf>[1]): void =>
      sendJson(res, code, table ? buildTableResponse(info, [o], { include, now: now(), apiVersion: tableApiVersion(accept), resourceVersion: o.metadata?.resourceVersion }) : manifestOf(info, o));
    const sub = subresource;
    await opts.authorizer?.checkFresh(who, restAttributes(method, { group: r.gv.group, info, namespace: t.namespace, name, subresource }, q, boolParam(q, 'watch')));
    if (sub && !['status', 'scale', 'log', 'eviction', 'approval'].includes(sub)) throw errors.notFoundPath();
    if (sub === 'approval' && info.kind !== 'CertificateSigningRequest') throw errors.notFoundPath();
    const caller: Caller = { who, authorize: (a) => opts.authorizer?.checkFresh(who, a) ?? Promise.resolve() };
    if (sub === 'scale' && !WITH_SCALE.has(info.kind)) throw errors.notFoundPath();
    if ((sub === 'log' || sub === 'eviction') && info.kind !== 'Pod') throw errors.notFoundPath();
    if (method === 'GET') {
      if (!name) {
        if (boolParam(q, 'watch')) {
          return void (await watchObjects(opts.watch, t, q, res, table ? { table: { apiVersion: tableApiVersion(accept), include, now } } : {}));
        }
        const page = await listObjects(ctx, info, t.namespace, q);
        if (table) {
          return void sendJson(res, 200, buildTableResponse(info, page.items, {
            include, now: now(), apiVersion: tableApiVersion(accept), resourceVersion: page.resourceVersion, continueToken: page.continueToken,
          }));
        }
        return void sendJson(res, 200, listDocument(info, page));
      }
      if (boolParam(q, 'watch')) return void (await watchObjects(opts.watch, t, q, res, {}));
      if (sub === 'log') return void (await podLogs(ctx, t, q, res));
      if (sub === 'eviction') throw new HttpError('MethodNotAllowed', 'pods/eviction only takes POST');
      const o = await getObject(ctx, t);
      if (sub === 'scale') return void sendJson(res, 200, scaleOf(o));
      return void sendObject(200, o);
    }
    if (method === 'POST') {
      if (sub === 'eviction') return void sendJson(res, 201, await evict(ctx, t, req, q));
      if (name) throw new HttpError('MethodNotAllowed', `POST creates in a collection; ${path} names an object`);
      if (info.namespaced && !t.namespace) throw new HttpError('MethodNotAllowed', `create ${info.plural} under /namespaces/NAMESPACE/${info.plural}`);
      return void sendObject(201, await createObject(ctx, t, req, q, caller));
    }
    if (!name) throw new HttpError('MethodNotAllowed', `${method} on a collection is not supported (deletecollection is not served)`);
    if (sub === 'log' || sub === 'eviction') throw new HttpError('MethodNotAllowed', `${method} is not allowed on pods/${sub}`);
    if (method === 'PUT') {
      if (sub === 'scale') return void sendJson(res, 200, await putScale(ctx, t, req, q));
      return void sendObject(200, await updateObject(ctx, t, req, q, caller));
    }
    if (method === 'PATCH') {
      if (sub === 'scale') return void sendJson(res, 200, await patchScale(ctx, t, req, q));
      return void sendObject(200, await patchObject(ctx, t, req, q, caller));
    }
    if (method === 'DELETE') {
      if (sub) throw new HttpError('MethodNotAllowed', `DELETE is not allowed on ${info.plural}/${sub}`);
      const out = await deleteTarget(ctx, t, req, q);
      return void sendJson(res, out.code, out.body);
    }
    throw new HttpError('MethodNotAllowed', `method ${method} is not supported`);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const started = Date.now();
    const addressed: { target?: StatusTarget } = {};
    handle(req, res, url, addressed).then(
      () => log.debug({ method: req.method, path: url.pathname, code: res.statusCode, ms: Date.now() - started }, 'rest call'),
      (e: unknown) => {
        const { code, body } = toStatus(e, addressed.target);
        if (code === 500) log.error({ method: req.method, path: url.pathname, err: e }, 'REST call failed with an internal error');
        if (res.headersSent) {
          res.end();
          return;
        }
        // Drain what the client is still sending so it reads the Status instead of a reset.
        req.resume();
        sendJson(res, code, body);
      },
    );
  };
  const server = createHttpsServer({
    cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2',
    ...(opts.clientCa ? { ca: opts.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
  }, onRequest);
  const { host, port } = splitHostPort(opts.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  log.info({ listen: opts.listen, port: bound, tls: true }, 'Kubernetes REST API listening');
  return {
    port: bound,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
