// The pure half of the CSR cleaner (kube-controller-manager's csrcleaner): approved, denied and
// failed requests go 1 h after creation, pending ones after 24 h, issued ones once their
// certificate has expired. Returns the ms until the request is due (<= 0: delete now).
import { isApproved, isDenied, isFailed, isIssued } from '../../../proto/api/csr.js';
import { certificateInfo } from '../../../proto/api/pki/index.js';
import type { CertificateSigningRequest } from '../../../proto/gen/skiff/v1/certificates.js';

export const APPROVED_EXPIRATION_MS = 3600_000;
export const DENIED_EXPIRATION_MS = 3600_000;
export const PENDING_EXPIRATION_MS = 24 * 3600_000;

export function csrDueInMs(csr: CertificateSigningRequest, now: Date): number {
  const created = Date.parse(csr.metadata?.creationTimestamp ?? '');
  if (Number.isNaN(created)) return PENDING_EXPIRATION_MS;
  const age = now.getTime() - created;
  let due = PENDING_EXPIRATION_MS - age;
  if (isApproved(csr) || isFailed(csr)) due = APPROVED_EXPIRATION_MS - age;
  if (isDenied(csr)) due = DENIED_EXPIRATION_MS - age;
  if (isIssued(csr)) {
    try {
      due = Math.min(due, certificateInfo(Buffer.from(csr.status!.certificate).toString('utf8')).notAfter.getTime() - now.getTime());
    } catch {
      // An unreadable certificate is worth nothing: the request goes with the approved ones.
    }
  }
  return due;
}
