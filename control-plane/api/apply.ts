// Apply of many documents as one unit: every document is parsed, defaulted and validated
// first (one Invalid error with every cause and its source, nothing written); then each is
// turned into a create or a three-way-merged update (apply-merge.ts), and all writes go to
// etcd in one transaction. A document whose merge equals the live object is "unchanged" and
// not written. A concurrent change makes the transaction fail; the whole apply is redone.
import { ApiError, errors, isApiError } from '../../proto/api/errors.js';
import { metaOf, objectKey, wrap, type AnyObject, type KindInfo } from '../../proto/api/kinds.js';
import { fromManifest, toManifest, type JsonObject } from '../../proto/api/manifest.js';
import type { ApplyRequest, ApplyResponse, ApplyResult, FieldCause } from '../../proto/gen/skiff/v1/api.js';
import type { Service } from '../../proto/gen/skiff/v1/core.js';
import type { TxnWrite } from '../storage/store.js';
import { ReservationTakenError } from '../storage/store.js';
import { allocate, newPending, onlyAutoTaken, type Pending } from './allocation/allocate.js';
import { carryOver } from './allocation/service.js';
import { mergeApplied } from './apply-merge.js';
import { clone, namespaceOf, requireNamespace, writableKind, type ApiContext } from './context.js';
import { prepareNew } from './crud.js';
import type { CertificateSigningRequest } from '../../proto/gen/skiff/v1/certificates.js';
import { ANONYMOUS, type Identity } from './auth.js';
import { stampRequester, verifyRequestSignature } from './csr/requester.js';
import { admitPodSecurity, type PendingNamespaces } from './pod-security.js';
import { applyDefaults } from './defaults.js';
import { validateObject, validateUpdate } from './validation/index.js';

interface Parsed {
  info: KindInfo;
  /** The manifest in Kubernetes JSON form, as it will be recorded in last-applied. */
  desired: JsonObject;
  namespace: string;
  name: string;
  source: string;
}

const ATTEMPTS = 5;

function causesOf(e: unknown, source: string): FieldCause[] {
  if (e instanceof ApiError) {
    if (e.causes.length) return e.causes.map((c) => ({ ...c, source: c.source || source }));
    return [{ field: '(document)', message: e.message, source }];
  }
  throw e;
}

/** Parses and validates one document; returns its causes instead of throwing. */
function parseDocument(text: string, source: string): Parsed | FieldCause[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return [{ field: '(document)', message: `not valid JSON: ${(e as Error).message}`, source }];
  }
  let info: KindInfo;
  let object: AnyObject;
  try {
    ({ info, object } = fromManifest(doc, source));
    writableKind(info);
  } catch (e) {
    return causesOf(e, source);
  }
  const m = metaOf(object);
  m.namespace = namespaceOf(info, m.namespace);
  m.resourceVersion = '';
  const desired = toManifest(info, object);
  const check = clone(info, object);
  applyDefaults(info, check);
  const causes = validateObject(info, check, source);
  if (!m.name) {
    if (!causes.some((c) => c.field === 'metadata.name')) causes.push({ field: 'metadata.name', message: 'required', source });
  }
  if (causes.length) return causes;
  return { info, desired, namespace: m.namespace, name: m.name, source };
}

function manifestLabels(desired: unknown): Record<string, string> {
  const labels = (desired as { metadata?: { labels?: unknown } }).metadata?.labels;
  return labels && typeof labels === 'object' ? (labels as Record<string, string>) : {};
}

/** Kind and name of a document, as far as they can be read, for the error message. */
function identity(text: string): { kind: string; name: string } {
  try {
    const d = JSON.parse(text) as { kind?: unknown; metadata?: { name?: unknown } };
    return { kind: typeof d.kind === 'string' ? d.kind : '', name: typeof d.metadata?.name === 'string' ? d.metadata.name : '' };
  } catch {
    return { kind: '', name: '' };
  }
}

/** The create or update one document needs against the live state, or "unchanged". */
interface Planned {
  result: ApplyResult;
  write?: TxnWrite;
  /** Fields the allocator filled (a ClusterIP, NodePorts): picked again if found taken. */
  auto: string[];
  source: string;
}

/**
 * Asks whether the caller may do what apply does to one document: create it when it does not
 * exist, patch it when it does (as kubectl's apply does); throws Forbidden otherwise.
 */
export type ApplyAuthorizer = (verb: 'create' | 'patch', info: KindInfo, namespace: string, name: string, object: AnyObject) => Promise<void>;

export interface ApplyOptions {
  authorize?: ApplyAuthorizer;
  /** The caller, recorded as the requester of a CertificateSigningRequest applied new. */
  who?: Identity;
}

async function plan(ctx: ApiContext, p: Parsed, pending: Pending, namespaces: PendingNamespaces, opts: ApplyOptions): Promise<Planned> {
  const { info } = p;
  let live: AnyObject | undefined;
  try {
    live = await ctx.store.get(info.kind, p.namespace, p.name);
  } catch (e) {
    if (!isApiError(e, 'NotFound')) throw e;
  }
  if (!live) {
    const object = fromManifest(mergeApplied(p.desired, {}), p.source).object;
    await opts.authorize?.('create', info, p.namespace, p.name, object);
    if (info.kind === 'CertificateSigningRequest') stampRequester(object as CertificateSigningRequest, opts.who ?? ANONYMOUS);
    prepareNew(info, object, p.source);
    if (info.kind === 'CertificateSigningRequest') await verifyRequestSignature(object as CertificateSigningRequest);
    await admitPodSecurity(ctx, info, object, { source: p.source, pending: namespaces });
    const auto = await allocate(ctx.store, ctx.serviceRanges, info, object, undefined, p.source, pending);
    ctx.store.prepareCreate(info, object);
    return { result: { object: wrap(info.kind, object), action: 'created' }, write: { kind: info.kind, object, op: 'create' }, auto, source: p.source };
  }
  const merged = mergeApplied(p.desired, toManifest(info, live));
  const object = fromManifest(merged, p.source).object;
  await opts.authorize?.('patch', info, p.namespace, p.name, object);
  const om = metaOf(object);
  const lm = metaOf(live);
  // Status and deletion state are not the applier's to set.
  (object as { status?: unknown }).status = (live as { status?: unknown }).status;
  om.deletionTimestamp = lm.deletionTimestamp;
  om.deletionGracePeriodSeconds = lm.deletionGracePeriodSeconds;
  applyDefaults(info, object);
  // A manifest rarely repeats the allocated ClusterIP and NodePorts: keep the live ones.
  if (info.kind === 'Service') carryOver(object as Service, live as Service);
  const causes = validateUpdate(info, object, live, p.source);
  if (causes.length) throw errors.invalid(info.kind, p.name, causes);
  await admitPodSecurity(ctx, info, object, { old: live, source: p.source, pending: namespaces });
  const auto = await allocate(ctx.store, ctx.serviceRanges, info, object, live, p.source, pending);
  if (!ctx.store.prepareUpdate(info, object, live)) return { result: { object: wrap(info.kind, live), action: 'unchanged' }, auto, source: p.source };
  return {
    result: { object: wrap(info.kind, object), action: 'configured' },
    write: { kind: info.kind, object, op: 'update', current: live },
    auto,
    source: p.source,
  };
}

export async function apply(ctx: ApiContext, req: ApplyRequest, opts: ApplyOptions = {}): Promise<ApplyResponse> {
  if (req.documents.length === 0) throw errors.badRequest('apply needs at least one document');
  const parsed: Parsed[] = [];
  const causes: FieldCause[] = [];
  const seen = new Map<string, string>();
  req.documents.forEach((d, i) => {
    const source = d.source || `document ${i + 1}`;
    const p = parseDocument(d.manifest, source);
    if (Array.isArray(p)) {
      causes.push(...p);
      return;
    }
    const id = `${p.info.kind} ${p.namespace}/${p.name}`;
    const first = seen.get(id);
    if (first) causes.push({ field: 'metadata.name', message: `${p.info.kind} "${p.name}" is also declared in ${first}`, source });
    else seen.set(id, source);
    parsed.push(p);
  });
  if (causes.length) {
    if (req.documents.length === 1) {
      const { kind, name } = identity(req.documents[0]!.manifest);
      throw errors.invalid(kind || 'the document', name, causes);
    }
    const bad = new Set(causes.map((c) => c.source)).size;
    const n = causes.length;
    throw new ApiError('Invalid', `${bad} of ${req.documents.length} documents are invalid (${n} problem${n === 1 ? '' : 's'}); nothing was applied`, causes);
  }
  const newNamespaces = new Set(parsed.filter((p) => p.info.kind === 'Namespace').map((p) => p.name));
  // The labels a namespace gets in this apply are the ones its pods are judged by.
  const batchNamespaces: PendingNamespaces = new Map(parsed.filter((p) => p.info.kind === 'Namespace').map((p) => [p.name, manifestLabels(p.desired)]));
  for (const ns of new Set(parsed.filter((p) => p.info.namespaced).map((p) => p.namespace))) {
    if (!newNamespaces.has(ns)) await requireNamespace(ctx, parsed.find((p) => p.info.namespaced)!.info, ns);
  }
  for (let attempt = 1; ; attempt++) {
    const planned: Planned[] = [];
    const pending = newPending();
    for (const p of parsed) planned.push(await plan(ctx, p, pending, batchNamespaces, opts));
    const writes = planned.flatMap((x) => (x.write ? [x.write] : []));
    if (req.dryRun || writes.length === 0) return { results: planned.map((x) => x.result) };
    try {
      await ctx.store.transact(writes);
    } catch (e) {
      if (e instanceof Error && /too many operations in txn/.test(e.message)) {
        throw errors.badRequest(`apply of ${writes.length} changed objects is more than etcd takes in one transaction (its --max-txn-ops, 128 by default); apply fewer documents at once`);
      }
      if (e instanceof ReservationTakenError) {
        // A value taken by a concurrent writer: pick again if this apply chose it, else say so.
        const owner = planned.find((x) => x.write && metaOf(x.write.object).name === e.objectName && x.write.kind === e.kind);
        if (owner && onlyAutoTaken(e, owner.auto) && attempt < ATTEMPTS) continue;
        throw errors.invalid(e.kind, e.objectName, e.causes.map((c) => ({ ...c, source: owner?.source ?? '' })));
      }
      if (!isApiError(e, 'Conflict') || attempt >= ATTEMPTS) throw e;
      ctx.log.debug({ attempt, objects: writes.map((w) => objectKey(w.object)) }, 'apply conflicted, retrying');
      continue;
    }
    return { results: planned.map((x) => x.result) };
  }
}
