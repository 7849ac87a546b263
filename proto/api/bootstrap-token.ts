// Kubernetes' bootstrap tokens (k8s.io/cluster-bootstrap): a token "<id>.<secret>" lives in a
// Secret of type bootstrap.kubernetes.io/token named bootstrap-token-<id> in kube-system. The
// control plane reads it to authenticate joining agents; `skiff token` writes it. Shared here so
// both sides read and write the same keys.
import { randomInt } from 'node:crypto';

export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAP_TOKEN_NAMESPACE = 'kube-system';
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = 'bootstrap-token-';
/** The user of a token is system:bootstrap:<id>, in this group (plus its extra groups). */
export const BOOTSTRAP_USER_PREFIX = 'system:bootstrap:';
export const BOOTSTRAP_GROUP = 'system:bootstrappers';

/** Secret data keys (k8s.io/cluster-bootstrap/token/api). */
export const TOKEN_KEYS = {
  id: 'token-id',
  secret: 'token-secret',
  expiration: 'expiration',
  description: 'description',
  usageAuthentication: 'usage-bootstrap-authentication',
  usageSigning: 'usage-bootstrap-signing',
  extraGroups: 'auth-extra-groups',
} as const;

export const TOKEN_ID_PATTERN = /^[a-z0-9]{6}$/;
export const TOKEN_SECRET_PATTERN = /^[a-z0-9]{16}$/;
export const TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
/** An extra group must be a sub-group of system:bootstrappers, as Kubernetes requires. */
export const EXTRA_GROUP_PATTERN = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomString(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** A new random token, as kubeadm's `token generate`. */
export function generateBootstrapToken(): { id: string; secret: string; token: string } {
  const id = randomString(6);
  const secret = randomString(16);
  return { id, secret, token: `${id}.${secret}` };
}

export function bootstrapTokenSecretName(id: string): string {
  return `${BOOTSTRAP_TOKEN_SECRET_PREFIX}${id}`;
}

/** The id and secret of "<id>.<secret>", or undefined when it does not have the form. */
export function parseBootstrapToken(token: string): { id: string; secret: string } | undefined {
  const m = TOKEN_PATTERN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** What a token Secret says, read from its data (strings). */
export interface BootstrapTokenInfo {
  id: string;
  secret: string;
  /** Undefined: never expires. */
  expiration?: Date;
  description: string;
  usages: string[];
  extraGroups: string[];
}

const text = (data: Readonly<Record<string, Uint8Array>>, key: string): string =>
  data[key] ? Buffer.from(data[key]).toString('utf8') : '';

export function bootstrapTokenInfo(data: Readonly<Record<string, Uint8Array>>): BootstrapTokenInfo {
  const exp = text(data, TOKEN_KEYS.expiration);
  const usages = Object.keys(data).filter((k) => k.startsWith('usage-bootstrap-') && text(data, k) === 'true').map((k) => k.slice('usage-bootstrap-'.length));
  const groups = text(data, TOKEN_KEYS.extraGroups);
  return {
    id: text(data, TOKEN_KEYS.id),
    secret: text(data, TOKEN_KEYS.secret),
    expiration: exp ? new Date(exp) : undefined,
    description: text(data, TOKEN_KEYS.description),
    usages: usages.sort(),
    extraGroups: groups ? groups.split(',').map((g) => g.trim()).filter(Boolean) : [],
  };
}

/** True when the token's expiration is at or before now (an unparsable one counts as expired). */
export function bootstrapTokenExpired(info: BootstrapTokenInfo, now: Date): boolean {
  if (!info.expiration) return false;
  const t = info.expiration.getTime();
  return Number.isNaN(t) || t <= now.getTime();
}

/**
 * The data of a new token Secret (stringData form), as `kubeadm token create` writes it, less
 * usage-bootstrap-signing: Skiff has no bootstrap signer (kube-public/cluster-info), so a token
 * here is for authentication only.
 */
export function bootstrapTokenData(p: { id: string; secret: string; expiration?: Date; description?: string; extraGroups?: readonly string[] }): Record<string, string> {
  const d: Record<string, string> = {
    [TOKEN_KEYS.id]: p.id,
    [TOKEN_KEYS.secret]: p.secret,
    [TOKEN_KEYS.usageAuthentication]: 'true',
  };
  if (p.expiration) d[TOKEN_KEYS.expiration] = p.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (p.description) d[TOKEN_KEYS.description] = p.description;
  if (p.extraGroups?.length) d[TOKEN_KEYS.extraGroups] = p.extraGroups.join(',');
  return d;
}
