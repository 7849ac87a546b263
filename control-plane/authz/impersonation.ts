// Impersonation (kubectl --as / --as-group): a caller allowed the verb "impersonate" on the
// resource "users" (and "groups") acts as someone else, as with Kubernetes' Impersonate-User
// and Impersonate-Group headers. cluster-admin may; nobody else by default.
import { errors } from '../../proto/api/errors.js';
import { ANONYMOUS, AUTHENTICATED_GROUP, type Identity } from '../api/auth.js';
import { resourceAttributes, type Attributes } from './attributes.js';

/** gRPC metadata keys (the REST API reads Impersonate-User / Impersonate-Group). */
export const IMPERSONATE_USER = 'impersonate-user';
export const IMPERSONATE_GROUP = 'impersonate-group';

/** The identity a call acts as: the caller itself, or whom it may impersonate. */
export function impersonate(who: Identity, user: string | undefined, groups: readonly string[], check: (who: Identity, a: Attributes) => void): Identity {
  if (!user) {
    if (groups.length) throw errors.badRequest('impersonating groups needs a user to impersonate too (--as)');
    return who;
  }
  const attrs = (resource: string, name: string): Attributes =>
    resourceAttributes({ verb: 'impersonate', apiGroup: '', resource, subresource: '', namespace: '', name });
  check(who, attrs('users', user));
  for (const g of groups) check(who, attrs('groups', g));
  const extra = user === ANONYMOUS.name || groups.includes(AUTHENTICATED_GROUP) ? [] : [AUTHENTICATED_GROUP];
  return { name: user, groups: [...groups, ...extra] };
}
