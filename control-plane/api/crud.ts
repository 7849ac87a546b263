// Create, get, list, update and patch: the request-shaped operations over the Store, each
// defaulting and validating exactly as Kubernetes' registry does before it writes.
import { randomInt } from 'node:crypto';
import jsonpatch, { type Operation } from 'fast-json-patch';
import mergePatch from 'json-merge-patch';
import { ApiError, errors, isApiError } from '../../proto/api/errors.js';
import { metaOf, objectKey, wrap, type AnyObject, type KindInfo } from '../../proto/api/kinds.js';
import { fromManifest, toManifest } from '../../proto/api/manifest.js';
import type {
  CreateRequest, GetRequest, ListRequest, PatchRequest, Resource, ResourceList, UpdateRequest,
} from '../../proto/gen/skiff/v1/api.js';
import type { Pod, Service } from '../../proto/gen/skiff/v1/core.js';
import { fieldsMatch, parseFieldSelector } from '../storage/fields.js';
import { matches, parseLabelSelector } from '../storage/labels.js';
import { clone, kindOf, namespaceOf, requireNamespace, writableKind, type ApiContext } from './context.js';
import { UNCACHED_KINDS } from './etcd-watch.js';
import { cachedCandidates } from './triggers.js';
import { allocate, ALLOCATION_ATTEMPTS, onlyAutoTaken } from './allocation/allocate.js';
import { carryOver } from './allocation/service.js';
import { applyCreateDefaults, applyDefaults } from './defaults.js';
import { strategicMergePatch } from './patch/strategic.js';
import { admitPodSecurity } from './pod-security.js';
import { validateObject, validateUpdate } from './validation/index.js';
import type { CertificateSigningRequest } from '../../proto/gen/skiff/v1/certificates.js';
import type { Attributes } from '../authz/attributes.js';
import { ANONYMOUS, type Identity } from './auth.js';
import { stampRequester, verifyRequestSignature } from './csr/requester.js';
import { CSR_SUBRESOURCES, signerApprovalAttributes, takeCsrSubresource } from './csr/subresources.js';

/**
 * Who makes a call, for the few writes that depend on it (a CSR records its requester; an
 * approval needs `approve` on the signer). authorize throws Forbidden; absent, all is allowed.
 */
export interface Caller {
  who: Identity;
  authorize?: (a: Attributes) => Promise<void>;
}

const isCsr = (info: KindInfo): boolean => info.kind === 'CertificateSigningRequest';

/** The object of a Create/Update request, or BadRequest when the Resource is empty. */
export function requestObject(r: Resource | undefined): { info: KindInfo; object: AnyObject } {
  if (!r?.object) throw errors.badRequest('the request carries no object');
  return { info: writableKind(kindOf(r.object.$case)), object: r.object.value };
}

const GENERATE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** Kubernetes' generateName: the prefix plus 5 random characters. */
export function generateName(prefix: string): string {
  let s = prefix;
  for (let i = 0; i < 5; i++) s += GENERATE_CHARS[randomInt(GENERATE_CHARS.length)];
  return s;
}

/**
 * Everything a create does before the write: defaults, create-only state, generated name,
 * validation. Throws Invalid listing every bad field.
 */
export function prepareNew(info: KindInfo, o: AnyObject, source = ''): void {
  applyDefaults(info, o);
  resetStatusOnCreate(info, o);
  applyCreateDefaults(info, o);
  const m = metaOf(o);
  if (!m.name && m.generateName) m.name = generateName(m.generateName);
  const causes = validateObject(info, o, source);
  if (causes.length) throw errors.invalid(info.kind, m.name, causes);
}

// Like Kubernetes' PrepareForCreate: status of workloads belongs to controllers, not creators.
// Nodes keep theirs (an agent registers with its status).
function resetStatusOnCreate(info: KindInfo, o: AnyObject): void {
  if (info.kind === 'Pod' || info.kind === 'Deployment' || info.kind === 'ReplicaSet' || info.kind === 'Service' || info.kind === 'PersistentVolumeClaim' || info.kind === 'HorizontalPodAutoscaler') {
    (o as { status?: unknown }).status = undefined;
  }
}

export async function create(ctx: ApiContext, req: CreateRequest, caller?: Caller): Promise<AnyObject> {
  const { info, object } = requestObject(req.object);
  if (isCsr(info)) stampRequester(object as CertificateSigningRequest, caller?.who ?? ANONYMOUS);
  prepareNew(info, object);
  if (isCsr(info)) await verifyRequestSignature(object as CertificateSigningRequest);
  await requireNamespace(ctx, info, metaOf(object).namespace);
  await admitPodSecurity(ctx, info, object);
  for (let attempt = 1; ; attempt++) {
    const o = clone(info, object);
    const auto = await allocate(ctx.store, ctx.serviceRanges, info, o, undefined);
    if (req.dryRun) {
      ctx.store.prepareCreate(info, o);
      return o;
    }
    try {
      return await ctx.store.create(info.kind, o);
    } catch (e) {
      // Another writer took a value picked here between the read and the write: pick again.
      if (!onlyAutoTaken(e, auto) || attempt >= ALLOCATION_ATTEMPTS) throw e;
    }
  }
}

export async function get(ctx: ApiContext, req: GetRequest): Promise<AnyObject> {
  const info = kindOf(req.kind);
  if (!req.name) throw errors.badRequest(`get ${info.kind}: name is required`);
  if (info.readOnly) {
    const ns = namespaceOf(info, req.namespace);
    const found = (await readMetrics(ctx, info)).find((o) => o.metadata?.name === req.name && (o.metadata.namespace ?? '') === ns);
    if (!found) throw errors.notFound(info.kind, ns, req.name);
    return found;
  }
  return ctx.store.get(info.kind, namespaceOf(info, req.namespace), req.name);
}

export async function list(ctx: ApiContext, req: ListRequest): Promise<ResourceList> {
  const info = kindOf(req.kind);
  if (info.readOnly) {
    const labels = parseLabelSelector(req.labelSelector);
    const fields = parseFieldSelector(info, req.fieldSelector);
    const ns = info.namespaced ? req.namespace : '';
    const items = (await readMetrics(ctx, info)).filter((o) => (!ns || o.metadata?.namespace === ns) && matches(labels, o.metadata?.labels) && fieldsMatch(info, fields, o));
    items.sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
    return { items: items.map((o) => wrap(info.kind, o)), resourceVersion: '' };
  }
  if (req.resourceVersion === '0' && !UNCACHED_KINDS.has(info.kind)) return listFromCache(ctx, info, req);
  if (req.resourceVersion && req.resourceVersion !== '0') {
    throw errors.badRequest(`list resourceVersion "${req.resourceVersion}" is not supported: use "" (a consistent read from etcd) or "0" (the server's cache)`);
  }
  const res = await ctx.store.list(info.kind, {
    namespace: info.namespaced ? req.namespace : '',
    labelSelector: req.labelSelector,
    fieldSelector: req.fieldSelector,
  });
  return { items: res.items.map((o) => wrap(info.kind, o)), resourceVersion: String(res.revision) };
}

/** PodMetrics or NodeMetrics as the node agents report them now. */
async function readMetrics(ctx: ApiContext, info: KindInfo): Promise<AnyObject[]> {
  if (!ctx.resourceMetrics) throw errors.unavailable(`the metrics API (${info.apiVersion}) is not served by this control plane`);
  return info.kind === 'PodMetrics' ? ctx.resourceMetrics.podMetrics() : ctx.resourceMetrics.nodeMetrics();
}

const CACHE_SYNC_TIMEOUT_MS = 10_000;

/** Kubernetes' resourceVersion=0 list: whatever the informer holds, at the informer's revision. */
async function listFromCache(ctx: ApiContext, info: KindInfo, req: ListRequest): Promise<ResourceList> {
  const labels = parseLabelSelector(req.labelSelector);
  const fields = parseFieldSelector(info, req.fieldSelector);
  const inf = ctx.informers.get(info.kind);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      inf.start(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(errors.unavailable(`cannot list ${info.plural} from the cache: it has not synced with etcd within ${CACHE_SYNC_TIMEOUT_MS} ms; is etcd reachable?`)),
          CACHE_SYNC_TIMEOUT_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  const ns = info.namespaced ? req.namespace : '';
  const items: Resource[] = [];
  for (const o of cachedCandidates(inf, info, fields)) {
    const m = metaOf(o);
    if (ns && m.namespace !== ns) continue;
    if (labels.length && !matches(labels, m.labels)) continue;
    if (fields.length && !fieldsMatch(info, fields, o)) continue;
    items.push(wrap(info.kind, o));
  }
  return { items, resourceVersion: String(inf.revision) };
}

export type Mutation = (current: AnyObject) => AnyObject;

/**
 * The one update path (update, patch, delete's marking): reads the stored object, builds the
 * next one with mutate, carries server-owned metadata over, defaults, validates and writes
 * with CAS. With expectedVersion a stale read is a Conflict; without, a conflict re-reads and
 * mutates again (Kubernetes' GuaranteedUpdate).
 */
export async function updateWith(
  ctx: ApiContext,
  info: KindInfo,
  namespace: string,
  name: string,
  expectedVersion: string,
  mutate: Mutation,
  opts: UpdateWithOptions = {},
): Promise<AnyObject> {
  // The first try may start from the informer's copy (Kubernetes' GuaranteedUpdate does the
  // same with its watch cache). A copy that turns out stale (the write's guard fails, or a
  // check against it fails) is never the answer: that try starts over from etcd.
  const cached = cachedCopy(ctx, info, namespace, name, expectedVersion);
  if (cached) {
    try {
      return await updateOnce(ctx, info, namespace, name, expectedVersion, mutate, opts, cached);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  }
  for (let attempt = 0; ; attempt++) {
    const current = await ctx.store.get(info.kind, namespace, name);
    try {
      return await updateOnce(ctx, info, namespace, name, expectedVersion, mutate, opts, current);
    } catch (e) {
      if (!isApiError(e, 'Conflict') || expectedVersion || attempt >= 15) throw e;
    }
  }
}

interface UpdateWithOptions {
  dryRun?: boolean;
  source?: string;
  markDeletion?: { timestamp: string; grace: number };
}

async function updateOnce(
  ctx: ApiContext,
  info: KindInfo,
  namespace: string,
  name: string,
  expectedVersion: string,
  mutate: Mutation,
  opts: UpdateWithOptions,
  current: AnyObject,
): Promise<AnyObject> {
  const cm = metaOf(current);
  if (expectedVersion && cm.resourceVersion !== expectedVersion) {
    throw errors.conflict(info.kind, namespace, name, `resourceVersion ${expectedVersion} is stale (now ${cm.resourceVersion})`);
  }
  const next = mutate(clone(info, current));
  const nm = metaOf(next);
  if (nm.name !== cm.name) throw errors.invalid(info.kind, name, [{ field: 'metadata.name', message: 'field is immutable', source: opts.source ?? '' }]);
  nm.namespace = cm.namespace;
  // Server-owned: only delete sets these.
  nm.deletionTimestamp = opts.markDeletion?.timestamp ?? cm.deletionTimestamp;
  nm.deletionGracePeriodSeconds = opts.markDeletion ? opts.markDeletion.grace : cm.deletionGracePeriodSeconds;
  applyDefaults(info, next);
  if (info.kind === 'Service') carryOver(next as Service, current as Service);
  const causes = validateUpdate(info, next, current, opts.source);
  if (cm.deletionTimestamp) {
    const added = nm.finalizers.filter((f) => !cm.finalizers.includes(f));
    if (added.length) causes.push({ field: 'metadata.finalizers', message: `no new finalizers can be added while the object is being deleted (${added.join(', ')})`, source: opts.source ?? '' });
  }
  if (causes.length) throw errors.invalid(info.kind, name, causes);
  await admitPodSecurity(ctx, info, next, { old: current, source: opts.source });
  nm.resourceVersion = cm.resourceVersion;
  if (cm.deletionTimestamp && nm.finalizers.length === 0 && (cm.deletionGracePeriodSeconds ?? 0) === 0) {
    // The last finalizer is gone from an object being deleted: it goes now.
    if (opts.dryRun) return next;
    return ctx.store.delete(info.kind, namespace, name, { resourceVersion: cm.resourceVersion, uid: cm.uid });
  }
  for (let attempt = 1; ; attempt++) {
    const o = clone(info, next);
    const auto = await allocate(ctx.store, ctx.serviceRanges, info, o, current, opts.source);
    if (opts.dryRun) {
      ctx.store.prepareUpdate(info, o, current);
      return o;
    }
    try {
      return await ctx.store.update(info.kind, o, { current });
    } catch (e) {
      if (!onlyAutoTaken(e, auto) || attempt >= ALLOCATION_ATTEMPTS) throw e;
    }
  }
}

/** The informer's copy of the object when it can stand for the stored one; never mutated. */
function cachedCopy(ctx: ApiContext, info: KindInfo, namespace: string, name: string, expectedVersion: string): AnyObject | undefined {
  const inf = ctx.informers.peek(info.kind);
  if (!inf?.hasSynced) return undefined;
  const o = inf.get(info.namespaced ? `${namespace}/${name}` : name);
  if (!o || (expectedVersion && metaOf(o).resourceVersion !== expectedVersion)) return undefined;
  return o;
}

function checkSubresource(subresource: string, info?: KindInfo): void {
  if (info && isCsr(info) && CSR_SUBRESOURCES.includes(subresource)) return;
  if (subresource !== '' && subresource !== 'status') {
    throw errors.badRequest(`unknown subresource "${subresource}"; supported: "" (the object) and "status"`);
  }
}

function takeSubresource(info: KindInfo, subresource: string, current: AnyObject, given: AnyObject): AnyObject {
  if (isCsr(info)) return takeCsrSubresource(subresource, current as CertificateSigningRequest, given as CertificateSigningRequest);
  const cur = current as { status?: unknown };
  if (subresource === '') {
    (given as { status?: unknown }).status = cur.status;
    return given;
  }
  if (subresource === 'status') {
    if (!('status' in given)) throw errors.badRequest(`${info.kind} has no status`);
    const qos = (current as Pod).status?.qosClass;
    cur.status = (given as { status?: unknown }).status;
    // The QoS class is fixed at creation; a status writer need not repeat it.
    const next = (current as Pod).status;
    if (info.kind === 'Pod' && qos && next && !next.qosClass) next.qosClass = qos;
    return current;
  }
  checkSubresource(subresource);
  return given;
}

/**
 * Approving or denying a CSR needs `approve` on its signer (the exact name or "<domain>/*"),
 * besides `update certificatesigningrequests/approval` (checked at the gate).
 */
async function authorizeApproval(ctx: ApiContext, info: KindInfo, name: string, subresource: string, caller: Caller | undefined): Promise<void> {
  if (!isCsr(info) || subresource !== 'approval' || !caller?.authorize) return;
  const csr = await ctx.store.get('CertificateSigningRequest', '', name);
  const [exact, wildcard] = signerApprovalAttributes(csr.spec?.signerName ?? '');
  try {
    await caller.authorize(exact!);
  } catch (e) {
    if (!isApiError(e, 'Forbidden')) throw e;
    try {
      await caller.authorize(wildcard!);
    } catch {
      throw e;
    }
  }
}

export async function update(ctx: ApiContext, req: UpdateRequest, caller?: Caller): Promise<AnyObject> {
  const { info, object } = requestObject(req.object);
  const m = metaOf(object);
  const ns = namespaceOf(info, m.namespace);
  if (!m.name) throw errors.invalid(info.kind, '', [{ field: 'metadata.name', message: 'required', source: '' }]);
  checkSubresource(req.subresource, info);
  await authorizeApproval(ctx, info, m.name, req.subresource, caller);
  return updateWith(ctx, info, ns, m.name, m.resourceVersion, (current) => takeSubresource(info, req.subresource, current, clone(info, object)), { dryRun: req.dryRun });
}

type Json = Parameters<typeof JSON.stringify>[0];

/** Applies a patch of patchType (merge, json, strategic) to the JSON form of an object of info's kind. */
export function applyPatchText(info: KindInfo, patchType: string, doc: Json, text: string): unknown {
  let patch: unknown;
  try {
    patch = JSON.parse(text);
  } catch (e) {
    throw errors.badRequest(`the patch is not valid JSON: ${(e as Error).message}`);
  }
  if (patchType === 'merge') {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      throw errors.badRequest('a merge patch must be a JSON object');
    }
    return mergePatch.apply(doc, patch);
  }
  if (patchType === 'json') {
    if (!Array.isArray(patch)) throw errors.badRequest('a JSON patch must be a list of operations');
    try {
      return jsonpatch.applyPatch(doc, patch as Operation[], true, true).newDocument;
    } catch (e) {
      throw errors.badRequest(`the JSON patch cannot be applied: ${(e as Error).message.split('\n')[0] ?? ''}`);
    }
  }
  if (patchType === 'strategic') return strategicMergePatch(doc, patch, info.message);
  throw errors.badRequest(`unknown patch type "${patchType}"; supported: "merge" (RFC 7386), "json" (RFC 6902), "strategic" (Kubernetes' strategic merge patch)`);
}

export async function patch(ctx: ApiContext, req: PatchRequest, caller?: Caller): Promise<AnyObject> {
  const info = writableKind(kindOf(req.kind));
  const ns = namespaceOf(info, req.namespace);
  if (!req.name) throw errors.badRequest(`patch ${info.kind}: name is required`);
  checkSubresource(req.subresource, info);
  await authorizeApproval(ctx, info, req.name, req.subresource, caller);
  return updateWith(ctx, info, ns, req.name, '', (current) => {
    const doc = toManifest(info, current);
    const patched = applyPatchText(info, req.patchType, doc, req.patch);
    const next = fromManifest(patched, 'patch').object;
    if (next.kind !== info.kind) throw errors.badRequest(`the patch may not change kind (${info.kind})`);
    // A resourceVersion in the patch is a precondition, as in Kubernetes.
    const rv = metaOf(next).resourceVersion;
    if (rv && rv !== metaOf(current).resourceVersion) {
      throw errors.conflict(info.kind, ns, req.name, `resourceVersion ${rv} is stale`);
    }
    return takeSubresource(info, req.subresource, current, next);
  }, { dryRun: req.dryRun, source: 'patch' });
}
