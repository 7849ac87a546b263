// Bootstrap-token authentication (kube-apiserver --enable-bootstrap-token-auth): a bearer token
// "<id>.<secret>" names the Secret kube-system/bootstrap-token-<id> of type
// bootstrap.kubernetes.io/token; while it is unexpired, marked for authentication and its
// secret matches (constant-time), the caller is system:bootstrap:<id> in system:bootstrappers
// plus the token's extra groups. Read from the Secret informer, never etcd per call. Every
// failure is the same refusal as any bad token, so a caller learns nothing about which ids exist.
import { constantTimeEqual } from '../../proto/api/constant-time.js';
import {
  BOOTSTRAP_GROUP, BOOTSTRAP_TOKEN_NAMESPACE, BOOTSTRAP_TOKEN_SECRET_TYPE, BOOTSTRAP_USER_PREFIX, bootstrapTokenExpired,
  bootstrapTokenInfo, bootstrapTokenSecretName, parseBootstrapToken,
} from '../../proto/api/bootstrap-token.js';
import type { Secret } from '../../proto/gen/skiff/v1/config.js';
import { AUTHENTICATED_GROUP, type Identity } from './auth.js';

/** The Secret "namespace/name" from a cache, or undefined. */
export type SecretLookup = (namespace: string, name: string) => Secret | undefined;

/**
 * The identity of a bootstrap token, undefined when token is not one or is not valid now
 * (unknown, expired, deleted, not for authentication, wrong secret).
 */
export function bootstrapIdentity(token: string, lookup: SecretLookup, now: Date): Identity | undefined {
  const t = parseBootstrapToken(token);
  if (!t) return undefined;
  const s = lookup(BOOTSTRAP_TOKEN_NAMESPACE, bootstrapTokenSecretName(t.id));
  if (!s || s.type !== BOOTSTRAP_TOKEN_SECRET_TYPE || s.metadata?.deletionTimestamp) return undefined;
  const info = bootstrapTokenInfo(s.data);
  // The id is compared too: a Secret whose token-id disagrees with its name names no one.
  if (!constantTimeEqual(info.id, t.id) || !constantTimeEqual(info.secret, t.secret)) return undefined;
  if (bootstrapTokenExpired(info, now) || !info.usages.includes('authentication')) return undefined;
  return { name: `${BOOTSTRAP_USER_PREFIX}${t.id}`, groups: [BOOTSTRAP_GROUP, ...info.extraGroups.filter((g) => g !== BOOTSTRAP_GROUP), AUTHENTICATED_GROUP] };
}

export class BootstrapTokenAuthenticator {
  constructor(private readonly lookup: SecretLookup, private readonly now: () => Date = () => new Date()) {}

  /** See bootstrapIdentity. */
  identify(token: string): Identity | undefined {
    return bootstrapIdentity(token, this.lookup, this.now());
  }

  /** True when token has a bootstrap token's form (so another authenticator need not be asked). */
  static looksLike(token: string): boolean {
    return parseBootstrapToken(token) !== undefined;
  }
}
