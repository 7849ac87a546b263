// Kubernetes' authorization attributes of one request (authorizer.Attributes): who asks, the
// verb, and either a resource (group, plural, subresource, namespace, name) or a non-resource
// path. Every authorizer decides over these alone, so the gRPC API, the REST API and access
// reviews share one decision.
import type { AnyObject } from '../../proto/api/kinds.js';
import type { FieldRequirement } from '../storage/fields.js';

export interface ResourceAttributes {
  /** get, list, watch, create, update, patch, delete, impersonate, ... */
  verb: string;
  /** "" is the core group. */
  apiGroup: string;
  /** The plural ("pods"); for impersonation "users" or "groups". */
  resource: string;
  /** "status", "log", "exec", "portforward", "eviction", "scale", or "". */
  subresource: string;
  /** "" for cluster-scoped resources and for requests across every namespace. */
  namespace: string;
  /** "" for create and for collections (list/watch without a metadata.name field selector). */
  name: string;
  /** The equality requirements of a list/watch's field selector (spec.nodeName=n1). */
  fields?: readonly FieldRequirement[];
  /** The object a create or update writes (node restriction reads its name and node). */
  object?: AnyObject;
}

export interface NonResourceAttributes {
  verb: string;
  /** "/version", "/healthz". */
  path: string;
}

export type Attributes = ({ type: 'resource' } & ResourceAttributes) | ({ type: 'nonResource' } & NonResourceAttributes);

export interface Decision {
  allowed: boolean;
  /** Why (which binding allowed it, or what is missing); empty when nothing had an opinion. */
  reason: string;
}

export const resourceAttributes = (a: ResourceAttributes): Attributes => ({ type: 'resource', ...a });

/** "pods/log" for a subresource, "pods" otherwise: the name RBAC rules use. */
export function combinedResource(a: ResourceAttributes): string {
  return a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
}

/** The value an equality requirement on field pins (spec.nodeName=n1), or undefined. */
export function pinnedField(a: ResourceAttributes, field: string): string | undefined {
  return a.fields?.find((r) => r.equal && r.field === field)?.value;
}

/**
 * kube-apiserver's refusal text: `deployments.apps "web" is forbidden: User "bob" cannot delete
 * resource "deployments" in API group "apps" in the namespace "default"`.
 */
export function forbiddenMessage(user: string, a: Attributes, reason = ''): string {
  const why = reason ? `: ${reason}` : '';
  if (a.type === 'nonResource') return `forbidden: User "${user}" cannot ${a.verb} path "${a.path}"${why}`;
  const resource = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const subject = a.name ? `${resource} "${a.name}"` : resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `${subject} is forbidden: User "${user}" cannot ${a.verb} resource "${combinedResource(a)}" in API group "${a.apiGroup}" ${scope}${why}`;
}
