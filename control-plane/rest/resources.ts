// The object verbs of the REST gateway: get, list (selectors, limit/continue,
// resourceVersion), create, update, patch, delete. Each goes through the same functions the
// gRPC server calls (api/crud.ts, api/delete.ts), so defaulting, validation and the write path
// are one.
import type { IncomingMessage } from 'node:http';
import { errors } from '../../proto/api/errors.js';
import { metaOf, wrap, type AnyObject, type KindInfo } from '../../proto/api/kinds.js';
import { fromManifest, toManifest, type JsonObject } from '../../proto/api/manifest.js';
import type { ApiContext } from '../api/context.js';
import { create, get, list, patch, update, type Caller } from '../api/crud.js';
import { csrFromProtobuf } from './csr-protobuf.js';
import { deleteObject } from '../api/delete.js';
import { dryRunOf, intParam, readBody, readBodyBytes, readJsonBody } from './http.js';
import { HttpError, successStatus } from './status.js';

export interface ObjectTarget {
  info: KindInfo;
  namespace: string;
  name: string;
  subresource: string;
}

export function manifestOf(info: KindInfo, o: AnyObject): JsonObject {
  return toManifest(info, o);
}

/** Reads a request body as an object of the addressed kind, in the addressed namespace. */
export async function bodyObject(req: IncomingMessage, t: ObjectTarget): Promise<AnyObject> {
  const csrProto = t.info.kind === 'CertificateSigningRequest' && (t.subresource === 'approval' || t.subresource === 'status')
    && /protobuf/i.test(req.headers['content-type'] ?? '');
  const doc = csrProto ? csrFromProtobuf(await readBodyBytes(req)) : await readJsonBody(req);
  const { info, object } = fromManifest(doc, 'request body');
  if (info.kind !== t.info.kind) throw errors.badRequest(`the body is a ${info.kind}, but the path addresses ${t.info.plural}`);
  const m = metaOf(object);
  if (t.info.namespaced) {
    if (m.namespace && t.namespace && m.namespace !== t.namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    m.namespace = t.namespace;
  }
  if (t.name && m.name && m.name !== t.name) throw errors.badRequest('the name of the object does not match the name on the URL');
  if (t.name && !m.name) m.name = t.name;
  return object;
}

export async function getObject(ctx: ApiContext, t: ObjectTarget): Promise<AnyObject> {
  return get(ctx, { kind: t.info.kind, namespace: t.namespace, name: t.name });
}

interface ContinueToken {
  rv: number;
  /** Key ("namespace/name" or "name") of the last object of the previous page. */
  after: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Partial<ContinueToken>;
    if (typeof t.rv === 'number' && typeof t.after === 'string') return { rv: t.rv, after: t.after };
  } catch {
    // fall through to the error below
  }
  throw errors.badRequest('the continue token is not valid');
}

const keyOf = (o: AnyObject): string => {
  const m = metaOf(o);
  return m.namespace ? `${m.namespace}/${m.name}` : m.name;
};

export interface ListPage {
  items: AnyObject[];
  resourceVersion: string;
  continueToken: string;
  remaining: number;
}

/**
 * A list with Kubernetes' resourceVersion semantics: "" (a consistent read), "0" (the cache,
 * whole), another value (NotOlderThan: a consistent read satisfies it; Exact: a read at that
 * etcd revision); limit/continue pages from one etcd revision, 410 Expired once compacted.
 */
export async function listObjects(ctx: ApiContext, info: KindInfo, namespace: string, q: URLSearchParams): Promise<ListPage> {
  const labelSelector = q.get('labelSelector') ?? '';
  const fieldSelector = q.get('fieldSelector') ?? '';
  const rv = q.get('resourceVersion') ?? '';
  const match = q.get('resourceVersionMatch') ?? '';
  const limit = intParam(q, 'limit') ?? 0;
  const cont = q.get('continue') ?? '';
  if (match && match !== 'NotOlderThan' && match !== 'Exact') throw errors.badRequest(`unknown resourceVersionMatch "${match}"; supported: NotOlderThan, Exact`);
  if (match && !rv) throw errors.badRequest('resourceVersionMatch needs a resourceVersion');
  if (cont && rv) throw errors.badRequest('specifying resourceVersion is not allowed when using continue');
  if (rv === '0' && match !== 'Exact' && !cont) {
    // From the cache, whole: Kubernetes ignores limit here too.
    const res = await list(ctx, { kind: info.kind, namespace, labelSelector, fieldSelector, resourceVersion: '0' });
    return { items: res.items.map((r) => r.object!.value), resourceVersion: res.resourceVersion, continueToken: '', remaining: 0 };
  }
  let revision: number | undefined;
  let after = '';
  if (cont) {
    const token = decodeContinue(cont);
    revision = token.rv;
    after = token.after;
  } else if (rv && match === 'Exact') {
    if (!/^\d+$/.test(rv)) throw errors.badRequest(`resourceVersion "${rv}" is not valid`);
    revision = Number(rv);
  } else if (rv && !/^\d+$/.test(rv)) throw errors.badRequest(`resourceVersion "${rv}" is not valid`);
  let res;
  try {
    res = await ctx.store.list(info.kind, { namespace, labelSelector, fieldSelector, revision });
  } catch (e) {
    if (e instanceof Error && 'code' in e && e.code === 'Expired') {
      throw errors.expired(cont
        ? 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'
        : `resourceVersion ${rv} is too old: list again without it`);
    }
    throw e;
  }
  let items = res.items;
  if (after) items = items.filter((o) => keyOf(o) > after);
  const resourceVersion = String(res.revision);
  if (limit > 0 && items.length > limit) {
    const page = items.slice(0, limit);
    return {
      items: page,
      resourceVersion,
      continueToken: encodeContinue({ rv: res.revision, after: keyOf(page[page.length - 1]!) }),
      remaining: items.length - limit,
    };
  }
  return { items, resourceVersion, continueToken: '', remaining: 0 };
}

export function listDocument(info: KindInfo, page: ListPage): JsonObject {
  const metadata: JsonObject = { resourceVersion: page.resourceVersion };
  if (page.continueToken) {
    metadata.continue = page.continueToken;
    metadata.remainingItemCount = page.remaining;
  }
  return { kind: `${info.kind}List`, apiVersion: info.apiVersion, metadata, items: page.items.map((o) => toManifest(info, o)) };
}

export async function createObject(ctx: ApiContext, t: ObjectTarget, req: IncomingMessage, q: URLSearchParams, caller?: Caller): Promise<AnyObject> {
  const o = await bodyObject(req, t);
  return create(ctx, { object: wrap(t.info.kind, o), dryRun: dryRunOf(q.getAll('dryRun')) }, caller);
}

export async function updateObject(ctx: ApiContext, t: ObjectTarget, req: IncomingMessage, q: URLSearchParams, caller?: Caller): Promise<AnyObject> {
  const o = await bodyObject(req, t);
  return update(ctx, { object: wrap(t.info.kind, o), dryRun: dryRunOf(q.getAll('dryRun')), subresource: t.subresource }, caller);
}

/** The patch type a Content-Type names; server-side apply is 415 until Skiff supports it. */
export function patchTypeOf(contentType: string | undefined): 'json' | 'merge' | 'strategic' {
  const type = (contentType ?? '').split(';')[0]!.trim();
  if (type === 'application/json-patch+json') return 'json';
  if (type === 'application/merge-patch+json') return 'merge';
  if (type === 'application/strategic-merge-patch+json') return 'strategic';
  if (type === 'application/apply-patch+yaml') {
    throw new HttpError('UnsupportedMediaType', 'server-side apply (application/apply-patch+yaml) is not supported by Skiff yet: use client-side kubectl apply');
  }
  throw new HttpError('UnsupportedMediaType', `the patch content type "${type}" is not supported; use application/json-patch+json, application/merge-patch+json or application/strategic-merge-patch+json`);
}

export async function patchObject(ctx: ApiContext, t: ObjectTarget, req: IncomingMessage, q: URLSearchParams, caller?: Caller): Promise<AnyObject> {
  const patchType = patchTypeOf(req.headers['content-type']);
  const text = await readBody(req);
  return patch(ctx, {
    kind: t.info.kind, namespace: t.namespace, name: t.name, patchType, patch: text,
    subresource: t.subresource, dryRun: dryRunOf(q.getAll('dryRun')),
  }, caller);
}

interface DeleteOptions {
  propagationPolicy?: string;
  orphanDependents?: boolean;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

function deleteOptionsOf(body: unknown, q: URLSearchParams): DeleteOptions {
  const o: DeleteOptions = typeof body === 'object' && body !== null ? (body) : {};
  const grace = intParam(q, 'gracePeriodSeconds');
  const out: DeleteOptions = {
    propagationPolicy: q.get('propagationPolicy') ?? o.propagationPolicy,
    orphanDependents: q.has('orphanDependents') ? q.get('orphanDependents') === 'true' : o.orphanDependents,
    gracePeriodSeconds: grace ?? o.gracePeriodSeconds,
    preconditions: o.preconditions,
    dryRun: [...q.getAll('dryRun'), ...(o.dryRun ?? [])],
  };
  if (out.gracePeriodSeconds !== undefined && (!Number.isInteger(out.gracePeriodSeconds) || out.gracePeriodSeconds < 0)) {
    throw errors.invalid('DeleteOptions', '', [{ field: 'gracePeriodSeconds', message: 'must be a non-negative integer', source: '' }]);
  }
  if (out.orphanDependents !== undefined && out.propagationPolicy) {
    throw errors.invalid('DeleteOptions', '', [{ field: 'propagationPolicy', message: 'orphanDependents and propagationPolicy cannot both be set', source: '' }]);
  }
  return out;
}

/** The deleted object while it is still there (graceful, finalizers), a Success Status once gone. */
export async function deleteTarget(ctx: ApiContext, t: ObjectTarget, req: IncomingMessage, q: URLSearchParams): Promise<{ code: number; body: JsonObject }> {
  const text = await readBody(req);
  let body: unknown;
  try {
    body = text.trim() ? JSON.parse(text) : undefined;
  } catch (e) {
    throw errors.badRequest(`the DeleteOptions body is not valid JSON: ${(e as Error).message}`);
  }
  const opts = deleteOptionsOf(body, q);
  const policy = opts.propagationPolicy ?? (opts.orphanDependents === true ? 'Orphan' : opts.orphanDependents === false ? 'Background' : '');
  const o = await deleteObject(ctx, {
    kind: t.info.kind, namespace: t.namespace, name: t.name, propagationPolicy: policy,
    gracePeriodSeconds: opts.gracePeriodSeconds, resourceVersion: opts.preconditions?.resourceVersion ?? '',
    uid: opts.preconditions?.uid ?? '', dryRun: dryRunOf(opts.dryRun ?? []),
  });
  const m = metaOf(o);
  if (m.deletionTimestamp) return { code: 200, body: toManifest(t.info, o) };
  const group = t.info.apiVersion.includes('/') ? t.info.apiVersion.split('/')[0]! : '';
  return { code: 200, body: successStatus({ name: m.name, ...(group ? { group } : {}), kind: t.info.plural, uid: m.uid }) };
}
