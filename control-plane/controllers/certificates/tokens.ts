// The pure half of the token cleaner (kube-controller-manager's tokencleaner): a bootstrap
// token Secret is deleted once its expiration has passed. Returns the ms until it is due, or
// undefined for a Secret that is not a token or never expires.
import { BOOTSTRAP_TOKEN_NAMESPACE, BOOTSTRAP_TOKEN_SECRET_TYPE, bootstrapTokenInfo } from '../../../proto/api/bootstrap-token.js';
import type { Secret } from '../../../proto/gen/skiff/v1/config.js';

export function tokenDueInMs(s: Secret, now: Date): number | undefined {
  if (s.type !== BOOTSTRAP_TOKEN_SECRET_TYPE || s.metadata?.namespace !== BOOTSTRAP_TOKEN_NAMESPACE) return undefined;
  const exp = bootstrapTokenInfo(s.data).expiration;
  if (!exp) return undefined;
  const t = exp.getTime();
  return Number.isNaN(t) ? 0 : t - now.getTime();
}
