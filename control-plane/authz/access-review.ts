// SelfSubjectAccessReview (authorization.k8s.io/v1): the decision the authorizer would make for
// the caller, without doing anything. Behind `skiff auth can-i` and kubectl auth can-i.
import { errors } from '../../proto/api/errors.js';
import type { SelfSubjectAccessReviewRequest, SubjectAccessReviewStatus } from '../../proto/gen/skiff/v1/rbac.js';
import type { Identity } from '../api/auth.js';
import { resourceAttributes, type Attributes } from './attributes.js';
import type { Authorizer } from './authorizer.js';

export function reviewAttributes(req: SelfSubjectAccessReviewRequest): Attributes {
  const r = req.resourceAttributes;
  const n = req.nonResourceAttributes;
  if (r && n) throw errors.badRequest('an access review asks about resourceAttributes or nonResourceAttributes, not both');
  if (n) {
    if (!n.verb || !n.path) throw errors.badRequest('nonResourceAttributes needs verb and path');
    return { type: 'nonResource', verb: n.verb, path: n.path };
  }
  if (!r) throw errors.badRequest('an access review needs resourceAttributes or nonResourceAttributes');
  if (!r.verb) throw errors.badRequest('resourceAttributes.verb is required');
  return resourceAttributes({ verb: r.verb, apiGroup: r.group, resource: r.resource, subresource: r.subresource, namespace: r.namespace, name: r.name });
}

/** undefined authorizer: authorization is off, so everything is allowed. */
export function reviewAccess(authorizer: Authorizer | undefined, who: Identity, req: SelfSubjectAccessReviewRequest): SubjectAccessReviewStatus {
  const a = reviewAttributes(req);
  if (!authorizer) return { allowed: true, denied: false, reason: 'authorization is off (the control plane has no --token-file)', evaluationError: '' };
  const d = authorizer.authorize(who, a);
  return { allowed: d.allowed, denied: false, reason: d.reason, evaluationError: '' };
}
