import { describe, expect, it } from 'vitest';
import { createCsr } from '../../../proto/api/pki/index.js';
import { CertificateSigningRequest } from '../../../proto/gen/skiff/v1/certificates.js';
import { Causes } from './causes.js';
import { validateCertificateSigningRequest, validateCertificateSigningRequestUpdate } from './certificates.js';

const cond = (type: string, status = 'True') => ({ type, status, reason: '', message: '', lastTransitionTime: '', lastUpdateTime: '', lastProbeTime: '', lastHeartbeatTime: '' });

async function csr(p: { cn: string; orgs?: string[]; hosts?: string[]; signer: string; usages: string[]; exp?: number; conditions?: ReturnType<typeof cond>[]; certificate?: string }) {
  const pem = (await createCsr({ commonName: p.cn, organizations: p.orgs }, undefined, p.hosts)).csr;
  return CertificateSigningRequest.fromPartial({
    metadata: { name: 'x' },
    spec: { request: Buffer.from(pem), signerName: p.signer, usages: p.usages, expirationSeconds: p.exp },
    status: { conditions: p.conditions ?? [], certificate: Buffer.from(p.certificate ?? '') },
  });
}

const fieldsOf = (o: CertificateSigningRequest): string[] => {
  const c = new Causes();
  validateCertificateSigningRequest(o, c);
  return c.list.map((x) => x.field);
};

const KUBELET = 'kubernetes.io/kube-apiserver-client-kubelet';
const CLIENT = 'kubernetes.io/kube-apiserver-client';
const SERVING = 'kubernetes.io/kubelet-serving';

describe('validateCertificateSigningRequest', () => {
  it.each([
    ['a kubelet client request', { cn: 'system:node:n1', orgs: ['system:nodes'], signer: KUBELET, usages: ['digital signature', 'client auth'] }, []],
    ['a kubelet client request may add key encipherment', { cn: 'system:node:n1', orgs: ['system:nodes'], signer: KUBELET, usages: ['digital signature', 'key encipherment', 'client auth'] }, []],
    ['a kubelet client request without digital signature', { cn: 'system:node:n1', orgs: ['system:nodes'], signer: KUBELET, usages: ['client auth'] }, ['spec.usages']],
    ['a kubelet client request with SANs', { cn: 'system:node:n1', orgs: ['system:nodes'], hosts: ['10.0.0.1'], signer: KUBELET, usages: ['digital signature', 'client auth'] }, ['spec.request']],
    ['a user client request', { cn: 'alice', orgs: ['dev'], signer: CLIENT, usages: ['client auth'] }, []],
    ['a user client request for server auth', { cn: 'alice', signer: CLIENT, usages: ['client auth', 'server auth'] }, ['spec.usages']],
    ['a kubelet serving request', { cn: 'system:node:n1', orgs: ['system:nodes'], hosts: ['n1', '10.0.0.1'], signer: SERVING, usages: ['digital signature', 'server auth'] }, []],
    ['a kubelet serving request without names', { cn: 'system:node:n1', orgs: ['system:nodes'], signer: SERVING, usages: ['digital signature', 'server auth'] }, ['spec.request']],
    ['an unknown signer', { cn: 'alice', signer: 'example.com/mine', usages: ['client auth'] }, ['spec.signerName']],
    ['an unknown and a repeated usage', { cn: 'alice', signer: CLIENT, usages: ['client auth', 'flying', 'client auth'] }, ['spec.usages[1]', 'spec.usages[2]']],
    ['expirationSeconds below 600', { cn: 'alice', signer: CLIENT, usages: ['client auth'], exp: 599 }, ['spec.expirationSeconds']],
    ['Approved and Denied at once', { cn: 'alice', signer: CLIENT, usages: ['client auth'], conditions: [cond('Approved'), cond('Denied')] }, ['status.conditions']],
    ['Approved False', { cn: 'alice', signer: CLIENT, usages: ['client auth'], conditions: [cond('Approved', 'False')] }, ['status.conditions[0].status']],
    ['a certificate without approval', { cn: 'alice', signer: CLIENT, usages: ['client auth'], certificate: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n' }, ['status.certificate']],
  ])('%s', async (_name, p, want) => {
    expect(fieldsOf(await csr(p))).toEqual(want);
  });

  it('a request that is not a CSR', () => {
    const o = CertificateSigningRequest.fromPartial({ metadata: { name: 'x' }, spec: { request: Buffer.from('hello'), signerName: CLIENT, usages: ['client auth'] } });
    expect(fieldsOf(o)).toEqual(['spec.request']);
  });
});

describe('validateCertificateSigningRequestUpdate', () => {
  it('keeps the spec, the verdict and an issued certificate', async () => {
    const old = await csr({ cn: 'alice', signer: CLIENT, usages: ['client auth'], conditions: [cond('Approved')], certificate: 'CERT' });
    const changed = CertificateSigningRequest.fromPartial({ ...old, spec: { ...old.spec, usages: ['client auth', 'digital signature'] }, status: { conditions: [], certificate: Buffer.from('OTHER') } });
    const c = new Causes();
    validateCertificateSigningRequestUpdate(changed, old, c);
    expect(c.list.map((x) => x.field)).toEqual(['spec', 'status.conditions', 'status.certificate']);
    const same = new Causes();
    validateCertificateSigningRequestUpdate(CertificateSigningRequest.fromPartial(old), old, same);
    expect(same.list).toEqual([]);
  });
});
