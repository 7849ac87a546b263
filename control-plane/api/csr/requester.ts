// Who asked for a certificate is the API server's to say, never the request body's: on create
// spec.username, uid and groups are overwritten with the caller's identity (as Kubernetes'
// PrepareForCreate does), and the request's signature must verify (proof the requester holds
// the key it wants certified).
import { errors } from '../../../proto/api/errors.js';
import { parseCsr } from '../../../proto/api/pki/index.js';
import type { CertificateSigningRequest } from '../../../proto/gen/skiff/v1/certificates.js';
import type { Identity } from '../auth.js';

export function stampRequester(csr: CertificateSigningRequest, who: Identity): void {
  const spec = (csr.spec ??= { request: Buffer.alloc(0), signerName: '', usages: [], username: '', uid: '', groups: [] });
  spec.username = who.name;
  spec.uid = '';
  spec.groups = [...who.groups];
  // A new request carries no verdict and no certificate.
  csr.status = undefined;
}

/** Invalid when the request's signature does not verify (the structure is checked by validation). */
export async function verifyRequestSignature(csr: CertificateSigningRequest): Promise<void> {
  const pem = Buffer.from(csr.spec?.request ?? []).toString('utf8');
  try {
    await parseCsr(pem);
  } catch (e) {
    throw errors.invalid('CertificateSigningRequest', csr.metadata?.name ?? '', [
      { field: 'spec.request', message: `Invalid value: ${e instanceof Error ? e.message : String(e)}`, source: '' },
    ]);
  }
}
