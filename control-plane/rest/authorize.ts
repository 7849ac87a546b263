// Authorization of REST requests: kube-apiserver's RequestInfo (the verb from the method, the
// collection or name, watch=true, the subresource) turned into the same attributes the gRPC
// API checks, impersonation from the Impersonate-User/Impersonate-Group headers, and the two
// self reviews kubectl calls (auth can-i, auth whoami).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from '../../proto/api/errors.js';
import type { KindInfo } from '../../proto/api/kinds.js';
import type { Identity } from '../api/auth.js';
import { reviewAccess } from '../authz/access-review.js';
import { resourceAttributes, type Attributes } from '../authz/attributes.js';
import type { Authorizer } from '../authz/authorizer.js';
import { impersonate } from '../authz/impersonation.js';
import { groupResource } from '../authz/request-attributes.js';
import { parseFieldSelector } from '../storage/fields.js';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { SelfSubjectAccessReviewRequest } from '../../proto/gen/skiff/v1/rbac.js';
import { readBodyBytes, sendJson } from './http.js';

/** The caller's identity after impersonation headers, checked by the authorizer. */
export function restIdentity(req: IncomingMessage, who: Identity, authorizer: Authorizer | undefined): Identity {
  const header = (h: string | string[] | undefined): string[] => (h === undefined ? [] : Array.isArray(h) ? h : [h]);
  const user = header(req.headers['impersonate-user'])[0];
  const groups = header(req.headers['impersonate-group']);
  return impersonate(who, user, groups, (w, a) => authorizer?.check(w, a));
}

export interface RestTarget {
  group: string;
  info: KindInfo;
  namespace: string;
  name: string;
  subresource: string;
}

/** kube-apiserver's verb for a resource request. */
export function restVerb(method: string, t: RestTarget, watch: boolean): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (watch) return 'watch';
      return t.name ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return t.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

export function restAttributes(method: string, t: RestTarget, q: URLSearchParams, watch: boolean): Attributes {
  const verb = restVerb(method, t, watch);
  const { apiGroup, resource } = groupResource(t.info);
  if (verb === 'list' || verb === 'watch') {
    const fields = parseFieldSelector(t.info, q.get('fieldSelector') ?? '');
    const name = t.name || (fields.find((r) => r.equal && r.field === 'metadata.name')?.value ?? '');
    return resourceAttributes({ verb, apiGroup, resource, subresource: t.subresource, namespace: t.namespace, name, fields });
  }
  // A create names its object only in the body; RBAC never sees a name for it (as in Kubernetes).
  const name = verb === 'create' && !t.subresource ? '' : t.name;
  return resourceAttributes({ verb, apiGroup, resource, subresource: t.subresource, namespace: t.namespace, name });
}

const REVIEW_PATHS: Record<string, 'access' | 'self'> = {
  '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews': 'access',
  '/apis/authentication.k8s.io/v1/selfsubjectreviews': 'self',
  '/apis/authentication.k8s.io/v1beta1/selfsubjectreviews': 'self',
};

type Json = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Kubernetes' protobuf envelope: "k8s\0" then a runtime.Unknown whose field 2 holds the object. */
const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** The bytes of the first length-delimited field num of a protobuf message. */
function protoField(buf: Uint8Array, num: number): Uint8Array | undefined {
  const r = new BinaryReader(buf);
  while (r.pos < r.len) {
    const [no, wireType] = r.tag();
    if (no === num && wireType === WireType.LengthDelimited) return r.bytes();
    r.skip(wireType);
  }
  return undefined;
}

/**
 * The review's spec from a JSON body, or from the protobuf body kubectl's typed client sends:
 * SelfSubjectAccessReview.spec (field 2) has Kubernetes' field numbers, which
 * SelfSubjectAccessReviewRequest and ResourceAttributes keep.
 */
function reviewSpec(body: Buffer): { spec: Json; request: SelfSubjectAccessReviewRequest } {
  if (body.subarray(0, 4).equals(PROTOBUF_MAGIC)) {
    const raw = protoField(body.subarray(4), 2);
    const spec = raw ? protoField(raw, 2) : undefined;
    if (!spec) throw errors.badRequest('the protobuf SelfSubjectAccessReview carries no spec');
    const request = SelfSubjectAccessReviewRequest.decode(spec);
    return { spec: SelfSubjectAccessReviewRequest.toJSON(request) as Json, request };
  }
  let doc: Json;
  try {
    doc = JSON.parse(body.toString('utf8')) as Json;
  } catch (e) {
    throw errors.badRequest(`the request body is not valid JSON: ${(e as Error).message}`);
  }
  const spec = (doc.spec ?? {}) as Json;
  const ra = spec.resourceAttributes as Json | undefined;
  const na = spec.nonResourceAttributes as Json | undefined;
  return {
    spec,
    request: {
      resourceAttributes: ra ? {
        namespace: str(ra.namespace), verb: str(ra.verb), group: str(ra.group), version: str(ra.version), resource: str(ra.resource), subresource: str(ra.subresource), name: str(ra.name),
      } : undefined,
      nonResourceAttributes: na ? { path: str(na.path), verb: str(na.verb) } : undefined,
    },
  };
}

/** Serves the self reviews; false when the path is not one of them. */
export async function serveReview(path: string, method: string, req: IncomingMessage, res: ServerResponse, who: Identity, authorizer: Authorizer | undefined): Promise<boolean> {
  const which = REVIEW_PATHS[path];
  if (!which) return false;
  if (method !== 'POST') throw errors.badRequest(`${path} only takes POST`);
  const apiVersion = path.split('/').slice(2, 4).join('/');
  const check = (resource: string): void =>
    authorizer?.check(who, resourceAttributes({ verb: 'create', apiGroup: apiVersion.split('/')[0]!, resource, subresource: '', namespace: '', name: '' }));
  const body = await readBodyBytes(req);
  if (which === 'self') {
    check('selfsubjectreviews');
    sendJson(res, 201, { kind: 'SelfSubjectReview', apiVersion, metadata: { creationTimestamp: null }, status: { userInfo: { username: who.name, groups: [...who.groups] } } });
    return true;
  }
  check('selfsubjectaccessreviews');
  const { spec, request } = reviewSpec(body);
  const status = reviewAccess(authorizer, who, request);
  const out: Json = { allowed: status.allowed };
  if (status.reason) out.reason = status.reason;
  sendJson(res, 201, { kind: 'SelfSubjectAccessReview', apiVersion, metadata: { creationTimestamp: null }, spec, status: out });
  return true;
}
