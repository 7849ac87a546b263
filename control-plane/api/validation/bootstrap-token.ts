// A bootstrap token Secret (type bootstrap.kubernetes.io/token): the keys the authenticator
// reads must hold what it expects, so a malformed token is refused when written rather than
// silently never matching.
import {
  BOOTSTRAP_TOKEN_SECRET_PREFIX, EXTRA_GROUP_PATTERN, TOKEN_ID_PATTERN, TOKEN_KEYS, TOKEN_SECRET_PATTERN,
} from '../../../proto/api/bootstrap-token.js';
import type { Secret } from '../../../proto/gen/skiff/v1/config.js';
import type { Causes } from './causes.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function validateBootstrapTokenSecret(s: Secret, c: Causes): void {
  const str = (k: string): string | undefined => (s.data[k] ? Buffer.from(s.data[k]).toString('utf8') : undefined);
  const id = str(TOKEN_KEYS.id);
  const secret = str(TOKEN_KEYS.secret);
  if (id === undefined) c.add(`data[${TOKEN_KEYS.id}]`, 'required');
  else if (!TOKEN_ID_PATTERN.test(id)) c.add(`data[${TOKEN_KEYS.id}]`, `Invalid value: "${id}": must match [a-z0-9]{6}`);
  if (secret === undefined) c.add(`data[${TOKEN_KEYS.secret}]`, 'required');
  else if (!TOKEN_SECRET_PATTERN.test(secret)) c.add(`data[${TOKEN_KEYS.secret}]`, 'Invalid value: must match [a-z0-9]{16}');
  const name = s.metadata?.name ?? '';
  if (id !== undefined && name && name !== `${BOOTSTRAP_TOKEN_SECRET_PREFIX}${id}`) {
    c.add('metadata.name', `Invalid value: "${name}": a bootstrap token Secret must be named "${BOOTSTRAP_TOKEN_SECRET_PREFIX}<token-id>" ("${BOOTSTRAP_TOKEN_SECRET_PREFIX}${id}")`);
  }
  const exp = str(TOKEN_KEYS.expiration);
  if (exp !== undefined && (!RFC3339.test(exp) || Number.isNaN(Date.parse(exp)))) {
    c.add(`data[${TOKEN_KEYS.expiration}]`, `Invalid value: "${exp}": must be an RFC 3339 time (2006-01-02T15:04:05Z)`);
  }
  for (const k of Object.keys(s.data)) {
    if (!k.startsWith('usage-bootstrap-')) continue;
    const v = str(k);
    if (v !== 'true' && v !== 'false') c.add(`data[${k}]`, `Invalid value: "${v ?? ''}": must be "true" or "false"`);
  }
  const groups = str(TOKEN_KEYS.extraGroups);
  if (groups !== undefined) {
    groups.split(',').forEach((g) => {
      if (!EXTRA_GROUP_PATTERN.test(g.trim())) c.add(`data[${TOKEN_KEYS.extraGroups}]`, `Invalid value: "${g}": must match ${EXTRA_GROUP_PATTERN.source}`);
    });
  }
}
