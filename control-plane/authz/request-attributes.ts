// The authorization attributes of each skiff.v1.Api call, as kube-apiserver derives them from
// a REST request: the verb, the kind's group and plural, the namespace, the name, and for list
// and watch the field selector (a metadata.name requirement names the object, as in Kubernetes;
// a metadata.namespace requirement scopes a list without namespace to that namespace).
import { errors } from '../../proto/api/errors.js';
import { metaOf, type KindInfo } from '../../proto/api/kinds.js';
import type {
  CreateRequest, DeleteRequest, EvictRequest, ExecRequest, GetRequest, ListRequest, LogsRequest, PatchRequest, UpdateRequest, WatchRequest,
} from '../../proto/gen/skiff/v1/api.js';
import { kindOf, namespaceOf } from '../api/context.js';
import { requestObject } from '../api/crud.js';
import { DEFAULT_NAMESPACE } from '../api/defaults.js';
import { groupResource } from '../../proto/api/group-resource.js';
import { parseFieldSelector } from '../storage/fields.js';
import { resourceAttributes, type Attributes } from './attributes.js';

export { groupResource };

export function objectAttributes(verb: string, info: KindInfo, namespace: string, name: string, subresource = ''): Attributes {
  return resourceAttributes({ verb, ...groupResource(info), subresource, namespace: namespaceOf(info, namespace), name });
}

function collectionAttributes(verb: string, req: ListRequest | WatchRequest): Attributes {
  const info = kindOf(req.kind);
  const fields = parseFieldSelector(info, req.fieldSelector);
  const pinned = (f: string): string => fields.find((r) => r.equal && r.field === f)?.value ?? '';
  const namespace = info.namespaced ? req.namespace || pinned('metadata.namespace') : '';
  return resourceAttributes({ verb, ...groupResource(info), subresource: '', namespace, name: pinned('metadata.name'), fields });
}

const podAttributes = (verb: string, subresource: string, namespace: string, name: string): Attributes =>
  resourceAttributes({ verb, apiGroup: '', resource: 'pods', subresource, namespace: namespace || DEFAULT_NAMESPACE, name });

/** Calls whose attributes are known only inside the handler (apply's create-or-patch, a stream's first frame). */
export const IN_HANDLER = 'in-handler';

/** The attributes of a call before its handler runs; IN_HANDLER for apply and the bidi streams. */
export function callAttributes(verb: string, req: unknown): Attributes | typeof IN_HANDLER {
  switch (verb) {
    case 'create': {
      const { info, object } = requestObject((req as CreateRequest).object);
      const a = objectAttributes('create', info, metaOf(object).namespace, '');
      return { ...a, object } as Attributes;
    }
    case 'update': {
      const r = req as UpdateRequest;
      const { info, object } = requestObject(r.object);
      const m = metaOf(object);
      return { ...objectAttributes('update', info, m.namespace, m.name, r.subresource), object } as Attributes;
    }
    case 'get': {
      const r = req as GetRequest;
      return objectAttributes('get', kindOf(r.kind), r.namespace, r.name);
    }
    case 'patch': {
      const r = req as PatchRequest;
      return objectAttributes('patch', kindOf(r.kind), r.namespace, r.name, r.subresource);
    }
    case 'delete': {
      const r = req as DeleteRequest;
      return objectAttributes('delete', kindOf(r.kind), r.namespace, r.name);
    }
    case 'list':
    case 'watch':
      return collectionAttributes(verb, req as ListRequest);
    case 'logs': {
      const r = req as LogsRequest;
      return podAttributes('get', 'log', r.namespace, r.pod);
    }
    case 'evict': {
      const r = req as EvictRequest;
      return podAttributes('create', 'eviction', r.namespace, r.name);
    }
    case 'exec': {
      const r = req as ExecRequest;
      return podAttributes('create', 'exec', r.namespace, r.pod);
    }
    case 'version':
      return { type: 'nonResource', verb: 'get', path: '/version' };
    case 'selfsubjectaccessreview':
      return resourceAttributes({ verb: 'create', apiGroup: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews', subresource: '', namespace: '', name: '' });
    case 'whoami':
      return resourceAttributes({ verb: 'create', apiGroup: 'authentication.k8s.io', resource: 'selfsubjectreviews', subresource: '', namespace: '', name: '' });
    case 'apply':
    case 'portforward':
    case 'execstream':
      return IN_HANDLER;
    default:
      // A new RPC must say what it does before anyone may call it.
      throw errors.internal(`no authorization attributes for the call "${verb}"`);
  }
}

export { podAttributes };
