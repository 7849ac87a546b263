// CertificateSigningRequest rules (Kubernetes' ValidateCertificateSigningRequest plus the
// kubelet signers' own requirements): the request parses as a PKCS#10 CSR, the signer is one
// Skiff runs, the usages and subject fit that signer, expirationSeconds is at least 600, and
// the status conditions make sense. The signature is checked on create by admitCsr (async).
import { NODE_USER_PREFIX, NODES_GROUP, readCsr, type ParsedCsr } from '../../../proto/api/pki/index.js';
import { CSR_CONDITIONS, KEY_USAGES, KNOWN_SIGNERS, MIN_EXPIRATION_SECONDS, SIGNERS } from '../../../proto/api/csr.js';
import type { CertificateSigningRequest } from '../../../proto/gen/skiff/v1/certificates.js';
import type { Causes } from './causes.js';

const quote = (xs: readonly string[]): string => xs.map((x) => `"${x}"`).join(', ');

/** The parsed request, or undefined after adding why it is not one. */
function request(csr: CertificateSigningRequest, c: Causes): ParsedCsr | undefined {
  const bytes = csr.spec?.request ?? new Uint8Array();
  if (bytes.length === 0) {
    c.add('spec.request', 'Required value');
    return undefined;
  }
  try {
    return readCsr(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    c.add('spec.request', `Invalid value: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** What a signer requires of the subject and usages (Kubernetes' IsKubeletClientCSR, ValidateKubeletServingCSR). */
function signerRules(signer: string, usages: readonly string[], parsed: ParsedCsr, c: Causes): void {
  const { subject } = parsed;
  const nodeSubject = (): void => {
    if (!subject.commonName.startsWith(NODE_USER_PREFIX) || subject.commonName.length === NODE_USER_PREFIX.length) {
      c.add('spec.request', `Invalid value: subject common name must begin with "${NODE_USER_PREFIX}" and name the node (got "${subject.commonName}")`);
    }
    if (!sameSet(subject.organizations ?? [], [NODES_GROUP])) {
      c.add('spec.request', `Invalid value: subject organization must be ["${NODES_GROUP}"] (got ${JSON.stringify(subject.organizations ?? [])})`);
    }
  };
  if (signer === SIGNERS.kubeletClient) {
    nodeSubject();
    if (parsed.hosts.length || parsed.otherNames.length) c.add('spec.request', 'Invalid value: a kubelet client certificate request may not carry subject alternative names');
    const ok = usages.includes('digital signature') && usages.includes('client auth') && usages.every((u) => ['digital signature', 'client auth', 'key encipherment'].includes(u));
    if (!ok) c.add('spec.usages', `Invalid value: ${JSON.stringify(usages)}: ${signer} requires "digital signature" and "client auth" (and allows "key encipherment")`);
  } else if (signer === SIGNERS.apiserverClient) {
    if (!subject.commonName) c.add('spec.request', 'Invalid value: subject common name (the user name) is required');
    if (!usages.includes('client auth') || usages.includes('server auth')) c.add('spec.usages', `Invalid value: ${JSON.stringify(usages)}: ${signer} requires "client auth" and forbids "server auth"`);
  } else if (signer === SIGNERS.kubeletServing) {
    nodeSubject();
    if (parsed.hosts.length === 0) c.add('spec.request', 'Invalid value: a kubelet serving certificate request needs at least one DNS name or IP address');
    if (parsed.otherNames.length) c.add('spec.request', `Invalid value: only DNS and IP subject alternative names are allowed (got ${parsed.otherNames.join(', ')})`);
    const ok = usages.includes('digital signature') && usages.includes('server auth') && usages.every((u) => ['digital signature', 'server auth', 'key encipherment'].includes(u));
    if (!ok) c.add('spec.usages', `Invalid value: ${JSON.stringify(usages)}: ${signer} requires "digital signature" and "server auth" (and allows "key encipherment")`);
  }
}

export function validateCertificateSigningRequest(csr: CertificateSigningRequest, c: Causes): void {
  const spec = csr.spec;
  const parsed = request(csr, c);
  const signer = spec?.signerName ?? '';
  if (!signer) c.add('spec.signerName', 'Required value');
  else if (!KNOWN_SIGNERS.includes(signer)) c.add('spec.signerName', `Unsupported value: "${signer}": supported values: ${quote(KNOWN_SIGNERS)}`);
  const usages = spec?.usages ?? [];
  if (usages.length === 0) c.add('spec.usages', 'Required value');
  usages.forEach((u, i) => {
    if (!KEY_USAGES.includes(u)) c.add(`spec.usages[${i}]`, `Unsupported value: "${u}"`);
    if (usages.indexOf(u) !== i) c.add(`spec.usages[${i}]`, `Duplicate value: "${u}"`);
  });
  const exp = spec?.expirationSeconds;
  if (exp !== undefined && exp < MIN_EXPIRATION_SECONDS) c.add('spec.expirationSeconds', `Invalid value: ${exp}: may not specify a duration less than ${MIN_EXPIRATION_SECONDS} seconds (10 minutes)`);
  if (parsed && KNOWN_SIGNERS.includes(signer)) signerRules(signer, usages, parsed, c);
  validateStatus(csr, c);
}

function validateStatus(csr: CertificateSigningRequest, c: Causes): void {
  const conditions = csr.status?.conditions ?? [];
  const seen = new Set<string>();
  conditions.forEach((cond, i) => {
    const p = `status.conditions[${i}]`;
    if (!cond.type) c.add(`${p}.type`, 'Required value');
    if (!['True', 'False', 'Unknown'].includes(cond.status)) c.add(`${p}.status`, `Unsupported value: "${cond.status}": supported values: "True", "False", "Unknown"`);
    if ((cond.type === CSR_CONDITIONS.approved || cond.type === CSR_CONDITIONS.denied) && cond.status !== 'True') {
      c.add(`${p}.status`, `Unsupported value: "${cond.status}": supported values: "True"`);
    }
    if (Object.values(CSR_CONDITIONS).includes(cond.type as never)) {
      if (seen.has(cond.type)) c.add(`${p}.type`, `Duplicate value: "${cond.type}"`);
      seen.add(cond.type);
    }
  });
  if (seen.has(CSR_CONDITIONS.approved) && seen.has(CSR_CONDITIONS.denied)) {
    c.add('status.conditions', 'Invalid value: Approved and Denied conditions are mutually exclusive');
  }
  const cert = csr.status?.certificate ?? new Uint8Array();
  if (cert.length) {
    if (!seen.has(CSR_CONDITIONS.approved)) c.add('status.certificate', 'Forbidden: a certificate may only be set on an Approved request');
    if (!/-----BEGIN CERTIFICATE-----/.test(Buffer.from(cert).toString('utf8'))) c.add('status.certificate', 'Invalid value: must hold PEM CERTIFICATE blocks');
  }
}

/** On update: the spec never changes, an approval or denial is never withdrawn, a certificate is set once. */
export function validateCertificateSigningRequestUpdate(next: CertificateSigningRequest, old: CertificateSigningRequest, c: Causes): void {
  const a = old.spec;
  const b = next.spec;
  const same = Buffer.from(a?.request ?? []).equals(Buffer.from(b?.request ?? [])) && a?.signerName === b?.signerName
    && a?.expirationSeconds === b?.expirationSeconds && JSON.stringify(a?.usages) === JSON.stringify(b?.usages)
    && a?.username === b?.username && a?.uid === b?.uid && JSON.stringify(a?.groups) === JSON.stringify(b?.groups);
  if (!same) c.add('spec', 'Invalid value: field is immutable');
  for (const t of [CSR_CONDITIONS.approved, CSR_CONDITIONS.denied]) {
    const had = old.status?.conditions.some((x) => x.type === t) ?? false;
    const has = next.status?.conditions.some((x) => x.type === t) ?? false;
    if (had && !has) c.add('status.conditions', `Forbidden: updates may not remove a condition of type "${t}"`);
  }
  const oldCert = Buffer.from(old.status?.certificate ?? []);
  if (oldCert.length && !oldCert.equals(Buffer.from(next.status?.certificate ?? []))) {
    c.add('status.certificate', 'Invalid value: updates may not modify existing certificate content');
  }
}
