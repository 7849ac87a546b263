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
}

/** Reads a PEM CSR; throws when it is not one or its signature does not verify. */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  let req: x509.Pkcs10CertificateRequest;
  try {
    req = new x509.Pkcs10CertificateRequest(pem);
  } catch (e) {
    throw new Error(`not a PEM certificate request: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!(await req.verify())) throw new Error('the certificate request signature does not verify');
  const alg = req.publicKey.algorithm as EcKeyAlgorithm;
  return { subject: fromName(req.subjectName), publicKey: req.publicKey, keyAlgorithm: `${alg.name} ${alg.namedCurve ?? ''}`.trim() };
}
