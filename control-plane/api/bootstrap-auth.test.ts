import { describe, expect, it } from 'vitest';
import { bootstrapTokenData } from '../../proto/api/bootstrap-token.js';
import { Secret } from '../../proto/gen/skiff/v1/config.js';
import { bootstrapIdentity } from './bootstrap-auth.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const ID = 'abc123';
const SECRET = '0123456789abcdef';

function tokenSecret(over: Record<string, string> = {}, meta: { deletionTimestamp?: string } = {}, type = 'bootstrap.kubernetes.io/token'): Secret {
  const data = { ...bootstrapTokenData({ id: ID, secret: SECRET, expiration: new Date('2026-01-01T01:00:00Z'), extraGroups: ['system:bootstrappers:workers'] }), ...over };
  return Secret.fromPartial({
    metadata: { name: `bootstrap-token-${ID}`, namespace: 'kube-system', ...meta }, type,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v)])),
  });
}

const lookupOf = (s: Secret | undefined) => (ns: string, name: string) => (s && ns === 'kube-system' && name === s.metadata?.name ? s : undefined);

describe('bootstrapIdentity', () => {
  it('a valid token is system:bootstrap:<id> in system:bootstrappers, its extra groups and system:authenticated', () => {
    expect(bootstrapIdentity(`${ID}.${SECRET}`, lookupOf(tokenSecret()), NOW)).toEqual({
      name: `system:bootstrap:${ID}`, groups: ['system:bootstrappers', 'system:bootstrappers:workers', 'system:authenticated'],
    });
  });

  it.each([
    ['not a bootstrap token', 'not-a-token', tokenSecret()],
    ['unknown id', `zzz999.${SECRET}`, tokenSecret()],
    ['wrong secret', `${ID}.ffffffffffffffff`, tokenSecret()],
    ['expired', `${ID}.${SECRET}`, tokenSecret({ expiration: '2025-12-31T23:59:59Z' })],
    ['not for authentication', `${ID}.${SECRET}`, tokenSecret({ 'usage-bootstrap-authentication': 'false' })],
    ['being deleted', `${ID}.${SECRET}`, tokenSecret({}, { deletionTimestamp: '2026-01-01T00:00:00Z' })],
    ['another Secret type', `${ID}.${SECRET}`, tokenSecret({}, {}, 'Opaque')],
    ['token-id disagreeing with the name', `${ID}.${SECRET}`, tokenSecret({ 'token-id': 'zzz999' })],
  ])('%s: no one', (_name, token, secret) => {
    expect(bootstrapIdentity(token, lookupOf(secret), NOW)).toBeUndefined();
  });
});
