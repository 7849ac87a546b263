// Client-certificate authentication (kube-apiserver --client-ca-file): a certificate signed by
// one of the file's CAs, valid now and usable for client auth, names its holder: the subject's
// CN is the user, its O values are the groups (Kubernetes' x509 authenticator). TLS asks every
// client for a certificate but accepts connections without one (bearer tokens still work);
// the check happens here, per call, over the DER the handshake received.
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { errors } from '../../proto/api/errors.js';
import { AUTHENTICATED_GROUP, type Identity } from './auth.js';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

/** Every certificate of a PEM bundle. */
export function pemCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

function values(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

export class ClientCertAuthenticator {
  private readonly cas: X509Certificate[];

  constructor(caPem: string, private readonly now: () => Date = () => new Date()) {
    this.cas = pemCertificates(caPem);
    if (this.cas.length === 0) throw new Error('the client CA file holds no PEM certificate');
  }

  /** The identity a verified peer certificate names; Unauthorized for one this CA did not issue. */
  identify(peer: PeerCertificate): Identity {
    const cert = new X509Certificate(peer.raw);
    const issuer = this.cas.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
    if (!issuer) throw errors.unauthorized('the client certificate is not signed by a CA this control plane trusts (--client-ca-file)');
    const t = this.now().getTime();
    if (t < Date.parse(cert.validFrom) || t > Date.parse(cert.validTo)) {
      throw errors.unauthorized(`the client certificate is not valid now (valid ${cert.validFrom} to ${cert.validTo})`);
    }
    if (cert.keyUsage && !cert.keyUsage.includes(CLIENT_AUTH_OID)) {
      throw errors.unauthorized('the client certificate is not for client authentication (extended key usage lacks clientAuth)');
    }
    const name = values(peer.subject.CN)[0] ?? '';
    if (!name) throw errors.unauthorized('the client certificate has no subject common name (the user name)');
    const groups = values(peer.subject.O).filter((g) => g !== AUTHENTICATED_GROUP);
    return { name, groups: [...groups, AUTHENTICATED_GROUP] };
  }
}
