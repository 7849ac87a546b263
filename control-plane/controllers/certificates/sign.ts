// The pure half of the CSR signer (kube-controller-manager's csrsigning): what to issue for an
// approved request of a signer Skiff runs, or why it fails. The lifetime is
// --cluster-signing-duration, shortened to spec.expirationSeconds when asked (never below
// 600 s), and never past the CA's own expiry (signCertificate caps that).
import { isApproved, isDenied, isFailed, isIssued, MIN_EXPIRATION_SECONDS, SIGNERS } from '../../../proto/api/csr.js';
import type { ParsedCsr, Usage } from '../../../proto/api/pki/index.js';
import type { CertificateSigningRequest } from '../../../proto/gen/skiff/v1/certificates.js';
import { isNodeClientCert } from './approve.js';

export const DEFAULT_SIGNING_DURATION_MS = 8760 * 3600 * 1000;

export type SignPlan =
  | { issue: { usages: Usage[]; hosts: string[]; durationMs: number } }
  | { fail: { reason: string; message: string } };

/** Undefined: nothing to do (not approved, denied, failed, issued, or another signer's). */
export function planSigning(csr: CertificateSigningRequest, parsed: ParsedCsr | undefined, clusterDurationMs: number): SignPlan | undefined {
  const signer = csr.spec?.signerName ?? '';
  if (!isApproved(csr) || isDenied(csr) || isFailed(csr) || isIssued(csr)) return undefined;
  if (signer !== SIGNERS.kubeletClient && signer !== SIGNERS.apiserverClient && signer !== SIGNERS.kubeletServing) return undefined;
  if (!parsed) return { fail: { reason: 'SignerValidationFailure', message: 'the certificate request does not parse' } };
  if (signer === SIGNERS.kubeletClient && !isNodeClientCert(csr, parsed)) {
    return { fail: { reason: 'SignerValidationFailure', message: `invalid kubelet client certificate request for ${signer}` } };
  }
  const usages = csr.spec?.usages ?? [];
  const want: Usage[] = [];
  if (usages.includes('client auth')) want.push('client');
  if (usages.includes('server auth')) want.push('server');
  if (signer === SIGNERS.apiserverClient && (want.includes('server') || !want.includes('client'))) {
    return { fail: { reason: 'SignerValidationFailure', message: `${signer} issues client certificates only ("client auth", never "server auth")` } };
  }
  const exp = csr.spec?.expirationSeconds;
  const asked = exp === undefined ? clusterDurationMs : Math.max(exp, MIN_EXPIRATION_SECONDS) * 1000;
  return { issue: { usages: want, hosts: signer === SIGNERS.kubeletServing ? parsed.hosts : [], durationMs: Math.min(asked, clusterDurationMs) } };
}
