// certificates.k8s.io/v1 names shared by the control plane (validation, approver, signer), the
// agent (its CSRs) and the CLI (approve/deny): Kubernetes' signer names, condition types and
// key usage strings.
import type { CertificateSigningRequest } from '../gen/skiff/v1/certificates.js';
import type { Condition } from '../gen/skiff/v1/meta.js';

export const SIGNERS = {
  kubeletClient: 'kubernetes.io/kube-apiserver-client-kubelet',
  apiserverClient: 'kubernetes.io/kube-apiserver-client',
  kubeletServing: 'kubernetes.io/kubelet-serving',
} as const;
export const KNOWN_SIGNERS: readonly string[] = Object.values(SIGNERS);

export const CSR_CONDITIONS = { approved: 'Approved', denied: 'Denied', failed: 'Failed' } as const;

/** Kubernetes' KeyUsage values. */
export const KEY_USAGES: readonly string[] = [
  'signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment',
  'cert sign', 'crl sign', 'encipher only', 'decipher only', 'any', 'server auth', 'client auth', 'code signing',
  'email protection', 's/mime', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing',
  'microsoft sgc', 'netscape sgc',
];

/** The shortest lifetime a requester may ask for (Kubernetes: 10 minutes). */
export const MIN_EXPIRATION_SECONDS = 600;

export function csrCondition(csr: CertificateSigningRequest, type: string): Condition | undefined {
  return csr.status?.conditions.find((c) => c.type === type && c.status === 'True');
}

export const isApproved = (csr: CertificateSigningRequest): boolean => csrCondition(csr, CSR_CONDITIONS.approved) !== undefined;
export const isDenied = (csr: CertificateSigningRequest): boolean => csrCondition(csr, CSR_CONDITIONS.denied) !== undefined;
export const isFailed = (csr: CertificateSigningRequest): boolean => csrCondition(csr, CSR_CONDITIONS.failed) !== undefined;
export const isIssued = (csr: CertificateSigningRequest): boolean => (csr.status?.certificate.length ?? 0) > 0;

/** kubectl's CONDITION column: "Approved,Issued", "Denied", "Pending". */
export function csrConditionText(csr: CertificateSigningRequest): string {
  const parts = (csr.status?.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type);
  if (isIssued(csr)) parts.push('Issued');
  return parts.length ? parts.join(',') : 'Pending';
}
