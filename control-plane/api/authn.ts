// Who is calling, over every authenticator the control plane has, in Kubernetes' order: a
// client certificate (when --client-ca-file is set and the call came with one), else a bearer
// token. With neither configured, authentication is off.
import type { PeerCertificate } from 'node:tls';
import { errors } from '../../proto/api/errors.js';
import { ANONYMOUS, authenticateHeader, type Identity, type Tokens } from './auth.js';
import type { ClientCertAuthenticator } from './client-cert.js';

export interface Authenticators {
  tokens?: Tokens;
  clientCerts?: ClientCertAuthenticator;
}

/** The peer certificate of a TLS connection, when the client sent one. */
export function peerCertificateOf(p: PeerCertificate | undefined | null): PeerCertificate | undefined {
  return p && p.raw && p.raw.length > 0 ? p : undefined;
}

export function authenticateRequest(header: string | undefined, peer: PeerCertificate | undefined, a: Authenticators): Identity {
  if (peer && a.clientCerts) return a.clientCerts.identify(peer);
  if (!a.tokens && !a.clientCerts) return ANONYMOUS;
  if (!a.tokens) throw errors.unauthorized('this control plane requires a client certificate signed by its client CA');
  return authenticateHeader(header, a.tokens);
}
