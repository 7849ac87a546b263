// What a certificate says: its identity, validity and names, and whether a CA signed it.
import * as x509 from '@peculiar/x509';
import { fromName, sanHosts, type Subject } from './names.js';

export interface CertificateInfo {
  subject: Subject;
  issuer: Subject;
  notBefore: Date;
  notAfter: Date;
  hosts: string[];
  isCa: boolean;
  serialNumber: string;
}

export function certificateInfo(pem: string): CertificateInfo {
  const c = new x509.X509Certificate(pem);
  const bc = c.getExtension(x509.BasicConstraintsExtension);
  return {
    subject: fromName(c.subjectName),
    issuer: fromName(c.issuerName),
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    hosts: sanHosts(c.getExtension(x509.SubjectAlternativeNameExtension)),
    isCa: bc?.ca ?? false,
    serialNumber: c.serialNumber,
  };
}

/** True when caPem's key signed certPem and certPem is valid at `at`. */
export async function signedBy(certPem: string, caPem: string, at = new Date()): Promise<boolean> {
  const cert = new x509.X509Certificate(certPem);
  const ca = new x509.X509Certificate(caPem);
  return cert.verify({ publicKey: ca.publicKey, date: at });
}
