// The cluster PKI shared by the CLI (skiff up makes the CA), the control plane (serving,
// signing CSRs) and the node agent (its CSR): keys, CA, certificates, CSRs, inspection.
export { createCa, createSelfSignedServing, issueCertificate, loadCa, signCertificate, type Ca, type CertAndKey, type IssueParams, type Usage } from './certificates.js';
export { createCsr, parseCsr, readCsr, type CsrAndKey, type ParsedCsr } from './csr.js';
export { certificateInfo, signedBy, type CertificateInfo } from './inspect.js';
export { generateKeyPair, importKeyPair, type KeyPair } from './keys.js';
export type { Subject } from './names.js';
export { KUBELET_CLIENT_USER, MASTERS_GROUP, NODE_USER_PREFIX, NODES_GROUP } from './identities.js';
export { KUBELET_CLIENT_CURRENT, splitPemPair } from './pem-pair.js';
