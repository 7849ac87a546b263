// The cluster CA and the certificates it issues (serving, client, or both), as PEM.
import * as x509 from '@peculiar/x509';
import { EC_ALGORITHM, generateKeyPair, importKeyPair, type KeyPair } from './keys.js';
import { sanExtension, toName, type Subject } from './names.js';

const DAY_MS = 24 * 3600 * 1000;
/** Issued certificates start this long in the past, so a peer whose clock lags still accepts them. */
const BACKDATE_MS = 5 * 60 * 1000;

/** A certificate and its private key, as PEM. */
export interface CertAndKey {
  cert: string;
  key: string;
}

/** serverAuth: a TLS server; clientAuth: a TLS client (an identity). */
export type Usage = 'server' | 'client';

export interface IssueParams {
  subject: Subject;
  usages: readonly Usage[];
  /** DNS names and IP addresses (serving certificates). */
  hosts?: readonly string[];
  /** Lifetime; 365 days by default. */
  durationMs?: number;
  now?: Date;
}

function serial(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[0] = b[0]! & 0x7f; // a positive INTEGER
  return Buffer.from(b).toString('hex');
}

/** A self-signed certificate (a CA of its own) for a new key, with these extensions besides the key id. */
async function selfSigned(commonName: string, durationMs: number, now: Date, extensions: (pub: CryptoKey) => Promise<x509.Extension[]>): Promise<CertAndKey> {
  const pair = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: toName({ commonName }),
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + durationMs),
    keys: pair.keys,
    signingAlgorithm: EC_ALGORITHM,
    extensions: await extensions(pair.keys.publicKey),
  });
  return { cert: cert.toString('pem'), key: pair.privateKeyPem };
}

/** A self-signed CA certificate with a new key (10 years unless durationMs). */
export function createCa(commonName: string, durationMs = 10 * 365 * DAY_MS, now = new Date()): Promise<CertAndKey> {
  return selfSigned(commonName, durationMs, now, async (pub) => [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(pub),
  ]);
}

/** A CA read back from its PEM files. */
export interface Ca {
  cert: x509.X509Certificate;
  pair: KeyPair;
  certPem: string;
}

export async function loadCa(ca: CertAndKey): Promise<Ca> {
  const cert = new x509.X509Certificate(ca.cert);
  const pair = await importKeyPair(ca.key);
  return { cert, pair, certPem: ca.cert };
}

/** Signs publicKey (a new key's, or a CSR's) into a leaf certificate. */
export async function signCertificate(ca: Ca, publicKey: CryptoKey | x509.PublicKey, p: IssueParams): Promise<string> {
  const now = p.now ?? new Date();
  const notAfter = new Date(Math.min(now.getTime() + (p.durationMs ?? 365 * DAY_MS), ca.cert.notAfter.getTime()));
  const eku = p.usages.map((u) => (u === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth));
  const key = publicKey instanceof x509.PublicKey ? await publicKey.export(EC_ALGORITHM, ['verify']) : publicKey;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(eku),
    await x509.AuthorityKeyIdentifierExtension.create(ca.pair.keys.publicKey),
  ];
  if (p.hosts?.length) extensions.push(sanExtension(p.hosts));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: toName(p.subject),
    issuer: ca.cert.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter,
    publicKey: key,
    signingKey: ca.pair.keys.privateKey,
    signingAlgorithm: EC_ALGORITHM,
    extensions,
  });
  return cert.toString('pem');
}

/** A new key and a certificate for it signed by the CA. */
export async function issueCertificate(ca: CertAndKey | Ca, p: IssueParams): Promise<CertAndKey> {
  const loaded = 'pair' in ca ? ca : await loadCa(ca);
  const pair = await generateKeyPair();
  return { cert: await signCertificate(loaded, pair.keys.publicKey, p), key: pair.privateKeyPem };
}

/**
 * A self-signed serving certificate that is its own CA (what kube-apiserver makes in --cert-dir
 * when it is given no certificate): clients trust this very certificate.
 */
export function createSelfSignedServing(commonName: string, hosts: readonly string[], durationMs = 10 * 365 * DAY_MS, now = new Date()): Promise<CertAndKey> {
  return selfSigned(commonName, durationMs, now, () => Promise.resolve([
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    sanExtension(hosts),
  ]));
}
