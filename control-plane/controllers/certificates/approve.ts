// The pure half of the CSR approver (kube-controller-manager's csrapproving): a pending
// kubernetes.io/kube-apiserver-client-kubelet request is approved when its requester may create
// certificatesigningrequests/nodeclient (a new node: the bootstrap policy grants it to
// system:bootstrappers) or, asking for its own name, .../selfnodeclient (renewal: granted to
// system:nodes). Anything else is left pending for a person (`skiff certificate approve`).
import { NODE_USER_PREFIX, NODES_GROUP, type ParsedCsr } from '../../../proto/api/pki/index.js';
import { isApproved, isDenied, SIGNERS } from '../../../proto/api/csr.js';
import type { CertificateSigningRequest } from '../../../proto/gen/skiff/v1/certificates.js';
import type { Identity } from '../../api/auth.js';
import { resourceAttributes, type Attributes } from '../../authz/attributes.js';

export interface ApprovalVerdict {
  reason: string;
  message: string;
}

/** Kubernetes' isNodeClientCert: O=[system:nodes], CN=system:node:<n>, client usages, no SANs. */
export function isNodeClientCert(csr: CertificateSigningRequest, parsed: ParsedCsr): boolean {
  const s = parsed.subject;
  const orgs = s.organizations ?? [];
  const usages = csr.spec?.usages ?? [];
  return orgs.length === 1 && orgs[0] === NODES_GROUP && s.commonName.startsWith(NODE_USER_PREFIX)
    && parsed.hosts.length === 0 && parsed.otherNames.length === 0
    && usages.includes('digital signature') && usages.includes('client auth')
    && usages.every((u) => ['digital signature', 'client auth', 'key encipherment'].includes(u));
}

const csrSubresource = (subresource: string): Attributes =>
  resourceAttributes({ verb: 'create', apiGroup: 'certificates.k8s.io', resource: 'certificatesigningrequests', subresource, namespace: '', name: '' });

/**
 * The verdict for one request: approve, or undefined to leave it (already decided, another
 * signer, not a node client certificate, or a requester without the permission).
 */
export function decideApproval(csr: CertificateSigningRequest, parsed: ParsedCsr | undefined, may: (who: Identity, a: Attributes) => boolean): ApprovalVerdict | undefined {
  if (isApproved(csr) || isDenied(csr)) return undefined;
  if (csr.spec?.signerName !== SIGNERS.kubeletClient || !parsed || !isNodeClientCert(csr, parsed)) return undefined;
  const who: Identity = { name: csr.spec.username, groups: csr.spec.groups };
  const self = csr.spec.username === parsed.subject.commonName;
  if ((self && may(who, csrSubresource('selfnodeclient'))) || may(who, csrSubresource('nodeclient'))) {
    return { reason: 'AutoApproved', message: 'Auto approving kubelet client certificate after SubjectAccessReview.' };
  }
  return undefined;
}
