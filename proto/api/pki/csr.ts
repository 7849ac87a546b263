// PKCS#10 certificate signing requests: an agent makes one for its node identity, the control
// plane reads the subject and checks the signature (proof the requester holds the key).
import * as x509 from '@peculiar/x509';
import { EC_ALGORITHM, generateKeyPair, importKeyPair } from './keys.js';
import { fromName, sanExtension, toName, type Subject } from './names.js';

export interface CsrAndKey {
  csr: string;
  key: string;
}

/** A CSR for subject, over key (PEM) or a new key. */
export async function createCsr(subject: Subject, keyPem?: string, hosts: readonly string[] = []): Promise<CsrAndKey> {
  const pair = keyPem ? await importKeyPair(keyPem) : await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: toName(subject),
    keys: pair.keys,
    signingAlgorithm: EC_ALGORITHM,
    extensions: hosts.length ? [sanExtension(hosts)] : [],
  });
  return { csr: csr.toString('pem'), key: pair.privateKeyPem };
}

export interface ParsedCsr {
  subject: Subject;
  publicKey: x509.PublicKey;
  /** The key type, e.g. "ECDSA P-256". */
  keyAlgorithm: string;
  /** DNS names and IP addresses of its subject alternative names. */
  hosts: string[];
  /** Email addresses and URIs among them (Kubernetes' signers refuse these for nodes). */
  otherNames: string[];
}

function decode(pem: string): x509.Pkcs10CertificateRequest {
  try {
    return new x509.Pkcs10CertificateRequest(pem);
  } catch (e) {
    throw new Error(`not a PEM certificate request: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const SAN_OID = '2.5.29.17';

function describe(req: x509.Pkcs10CertificateRequest): ParsedCsr {
  const alg = req.publicKey.algorithm as EcKeyAlgorithm;
  const ext = req.extensions.find((e) => e.type === SAN_OID);
  const san = !ext ? undefined : ext instanceof x509.SubjectAlternativeNameExtension ? ext : new x509.SubjectAlternativeNameExtension(ext.rawData);
  const items = san?.names.items ?? [];
  return {
    subject: fromName(req.subjectName),
    publicKey: req.publicKey,
    keyAlgorithm: `${alg.name} ${alg.namedCurve ?? ''}`.trim(),
    hosts: items.filter((n) => n.type === 'dns' || n.type === 'ip').map((n) => n.value),
    otherNames: items.filter((n) => n.type !== 'dns' && n.type !== 'ip').map((n) => `${n.type}:${n.value}`),
  };
}

/** Reads a PEM CSR without checking its signature (synchronous; parseCsr also verifies). */
export function readCsr(pem: string): ParsedCsr {
  return describe(decode(pem));
}

/** Reads a PEM CSR; throws when it is not one or its signature does not verify. */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  const req = decode(pem);
  if (!(await req.verify())) throw new Error('the certificate request signature does not verify');
  return describe(req);
}
