import { describe, expect, it } from 'vitest';
import { bootstrapTokenData } from '../../../proto/api/bootstrap-token.js';
import { SIGNERS } from '../../../proto/api/csr.js';
import { createCsr, readCsr } from '../../../proto/api/pki/index.js';
import { CertificateSigningRequest } from '../../../proto/gen/skiff/v1/certificates.js';
import { Secret } from '../../../proto/gen/skiff/v1/config.js';
import type { Identity } from '../../api/auth.js';
import type { Attributes } from '../../authz/attributes.js';
import { decideApproval } from './approve.js';
import { csrDueInMs } from './clean.js';
import { planSigning } from './sign.js';
import { tokenDueInMs } from './tokens.js';

const cond = (type: string) => ({ type, status: 'True', reason: '', message: '', lastTransitionTime: '', lastUpdateTime: '', lastProbeTime: '', lastHeartbeatTime: '' });

async function csr(cn: string, o: { username: string; groups?: string[]; signer?: string; usages?: string[]; orgs?: string[]; conditions?: string[]; exp?: number; created?: string }) {
  const pem = (await createCsr({ commonName: cn, organizations: o.orgs ?? ['system:nodes'] })).csr;
  const c = CertificateSigningRequest.fromPartial({
    metadata: { name: 'c', creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' },
    spec: {
      request: Buffer.from(pem), signerName: o.signer ?? SIGNERS.kubeletClient, usages: o.usages ?? ['digital signature', 'client auth'],
      username: o.username, groups: o.groups ?? [], expirationSeconds: o.exp,
    },
    status: { conditions: (o.conditions ?? []).map(cond) },
  });
  return { c, parsed: readCsr(pem) };
}

/** RBAC as the bootstrap policy grants it: nodeclient to bootstrappers, selfnodeclient to nodes. */
const policy = (who: Identity, a: Attributes): boolean => a.type === 'resource'
  && ((a.subresource === 'nodeclient' && who.groups.includes('system:bootstrappers')) || (a.subresource === 'selfnodeclient' && who.groups.includes('system:nodes')));

describe('decideApproval', () => {
  it.each([
    ['a bootstrapper asking for a node certificate: approved', 'system:node:n1', 'system:bootstrap:abc123', ['system:bootstrappers'], {}, true],
    ['a node renewing its own: approved', 'system:node:n1', 'system:node:n1', ['system:nodes'], {}, true],
    ['a node asking for another node\'s name: left pending', 'system:node:n2', 'system:node:n1', ['system:nodes'], {}, false],
    ['a user without the permission: left pending', 'system:node:n1', 'bob', [], {}, false],
    ['another signer: not the approver\'s', 'system:node:n1', 'system:bootstrap:abc123', ['system:bootstrappers'], { signer: SIGNERS.apiserverClient }, false],
    ['server auth usage: not a node client certificate', 'system:node:n1', 'system:bootstrap:abc123', ['system:bootstrappers'], { usages: ['digital signature', 'client auth', 'server auth'] }, false],
    ['wrong organization', 'system:node:n1', 'system:bootstrap:abc123', ['system:bootstrappers'], { orgs: ['system:masters'] }, false],
    ['already denied', 'system:node:n1', 'system:bootstrap:abc123', ['system:bootstrappers'], { conditions: ['Denied'] }, false],
  ])('%s', async (_name, cn, username, groups, extra, want) => {
    const { c, parsed } = await csr(cn, { username, groups, ...extra });
    expect(decideApproval(c, parsed, policy) !== undefined).toBe(want);
  });
});

describe('planSigning', () => {
  it('issues approved kubelet client requests for the cluster duration, or expirationSeconds when shorter (never below 600 s)', async () => {
    const hour = 3600_000;
    const a = await csr('system:node:n1', { username: 'u', conditions: ['Approved'] });
    expect(planSigning(a.c, a.parsed, 8760 * hour)).toEqual({ issue: { usages: ['client'], hosts: [], durationMs: 8760 * hour } });
    const b = await csr('system:node:n1', { username: 'u', conditions: ['Approved'], exp: 7200 });
    expect(planSigning(b.c, b.parsed, 8760 * hour)).toEqual({ issue: { usages: ['client'], hosts: [], durationMs: 2 * hour } });
    const c = await csr('system:node:n1', { username: 'u', conditions: ['Approved'], exp: 86400 });
    expect(planSigning(c.c, c.parsed, hour)).toMatchObject({ issue: { durationMs: hour } });
  });

  it('does nothing for pending, denied, failed or issued requests; fails a client signer asked for server auth', async () => {
    for (const conditions of [[], ['Denied'], ['Approved', 'Failed']]) {
      const x = await csr('system:node:n1', { username: 'u', conditions });
      expect(planSigning(x.c, x.parsed, 1000)).toBeUndefined();
    }
    const issued = await csr('system:node:n1', { username: 'u', conditions: ['Approved'] });
    issued.c.status!.certificate = Buffer.from('x');
    expect(planSigning(issued.c, issued.parsed, 1000)).toBeUndefined();
    const bad = await csr('alice', { username: 'u', conditions: ['Approved'], signer: SIGNERS.apiserverClient, usages: ['client auth', 'server auth'], orgs: [] });
    expect(planSigning(bad.c, bad.parsed, 1000)).toMatchObject({ fail: { reason: 'SignerValidationFailure' } });
  });
});

describe('cleaners', () => {
  const now = new Date('2026-01-01T02:00:00Z');
  it('CSRs: decided ones after 1 h, pending ones after 24 h', async () => {
    expect(csrDueInMs((await csr('system:node:n', { username: 'u', conditions: ['Approved'] })).c, now)).toBe(-3600_000);
    expect(csrDueInMs((await csr('system:node:n', { username: 'u', conditions: ['Denied'] })).c, now)).toBe(-3600_000);
    expect(csrDueInMs((await csr('system:node:n', { username: 'u' })).c, now)).toBe(22 * 3600_000);
  });

  it('bootstrap tokens: due at their expiration; others and tokens without one never', () => {
    const token = (expiration?: Date, type = 'bootstrap.kubernetes.io/token') => Secret.fromPartial({
      metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' }, type,
      data: Object.fromEntries(Object.entries(bootstrapTokenData({ id: 'abcdef', secret: '0123456789abcdef', expiration })).map(([k, v]) => [k, Buffer.from(v)])),
    });
    expect(tokenDueInMs(token(new Date('2026-01-01T02:30:00Z')), now)).toBe(30 * 60_000);
    expect(tokenDueInMs(token(new Date('2026-01-01T01:00:00Z')), now)).toBe(-3600_000);
    expect(tokenDueInMs(token(), now)).toBeUndefined();
    expect(tokenDueInMs(token(new Date('2026-01-01T01:00:00Z'), 'Opaque'), now)).toBeUndefined();
  });
});
