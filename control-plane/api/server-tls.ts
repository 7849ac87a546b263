// The gRPC API's TLS: the serving certificate, and with a client CA every client is asked for a
// certificate but one without is still let in (bearer tokens), as kube-apiserver's
// VerifyClientCertIfGiven. grpc-js' createSsl can only require a certificate or not ask for
// one, so this sets the same server options itself; authn.ts verifies what was sent.
import { ServerCredentials } from '@grpc/grpc-js';
import type { TlsFiles } from '../rest/tls.js';

class TlsServerCredentials extends ServerCredentials {
  constructor(tls: TlsFiles, clientCa: string | undefined) {
    super(
      { requestCert: Boolean(clientCa), rejectUnauthorized: false, minVersion: 'TLSv1.2' },
      { cert: tls.cert, key: tls.key, ...(clientCa ? { ca: clientCa } : {}) },
    );
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

export function serverCredentials(tls: TlsFiles, clientCa?: string): ServerCredentials {
  return new TlsServerCredentials(tls, clientCa);
}
