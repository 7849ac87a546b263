// The CertificateSigningRequest subresources, as Kubernetes' registry splits them: an update
// of the object changes neither spec (immutable) nor status; /approval changes only the
// Approved and Denied conditions; /status changes the certificate and the other conditions
// (Failed), never the verdict. Approving or denying also needs `approve` on the signer
// (resource "signers", group certificates.k8s.io, name the signerName or "<domain>/*"), as
// Kubernetes' CertificateApproval admission plugin checks.
import { CSR_CONDITIONS } from '../../../proto/api/csr.js';
import { errors } from '../../../proto/api/errors.js';
import type { CertificateSigningRequest } from '../../../proto/gen/skiff/v1/certificates.js';
import type { Condition } from '../../../proto/gen/skiff/v1/meta.js';
import { resourceAttributes, type Attributes } from '../../authz/attributes.js';

const VERDICTS: readonly string[] = [CSR_CONDITIONS.approved, CSR_CONDITIONS.denied];
const isVerdict = (c: Condition): boolean => VERDICTS.includes(c.type);

export const CSR_SUBRESOURCES: readonly string[] = ['', 'status', 'approval'];

/** The object an update of subresource writes, built from the stored one and the one given. */
export function takeCsrSubresource(subresource: string, current: CertificateSigningRequest, given: CertificateSigningRequest): CertificateSigningRequest {
  const curConditions = current.status?.conditions ?? [];
  const givenConditions = given.status?.conditions ?? [];
  const certificate = current.status?.certificate ?? Buffer.alloc(0);
  switch (subresource) {
    case '':
      given.status = current.status;
      return given;
    case 'approval':
      current.status = { certificate, conditions: [...curConditions.filter((c) => !isVerdict(c)), ...givenConditions.filter(isVerdict)] };
      return current;
    case 'status':
      current.status = { certificate: given.status?.certificate ?? Buffer.alloc(0), conditions: [...curConditions.filter(isVerdict), ...givenConditions.filter((c) => !isVerdict(c))] };
      return current;
    default:
      throw errors.badRequest(`unknown subresource "${subresource}" of certificatesigningrequests; supported: "", "status", "approval"`);
  }
}

/** The signer permissions that approving under signerName needs: the exact name or its domain wildcard. */
export function signerApprovalAttributes(signerName: string): Attributes[] {
  const domain = signerName.split('/')[0] ?? '';
  const one = (name: string): Attributes => resourceAttributes({ verb: 'approve', apiGroup: 'certificates.k8s.io', resource: 'signers', subresource: '', namespace: '', name });
  return [one(signerName), one(`${domain}/*`)];
}

/** True when the verdict conditions of next differ from current's (an approval or denial is being given). */
export function verdictChanged(current: CertificateSigningRequest, next: CertificateSigningRequest): boolean {
  const key = (o: CertificateSigningRequest): string => JSON.stringify((o.status?.conditions ?? []).filter(isVerdict).map((c) => [c.type, c.status]));
  return key(current) !== key(next);
}
