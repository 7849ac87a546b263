// Who is calling, over every authenticator the control plane has, in Kubernetes' order: a
// client certificate (when --client-ca-file is set and the call came with one), else a bearer
// token: the static token file, then bootstrap tokens (when enabled). With none configured,
// authentication is off.
import type { PeerCertificate } from 'node:tls';
import { errors } from '../../proto/api/errors.js';
import { ANONYMOUS, authenticateHeader, type Identity, type Tokens } from './auth.js';
import { BootstrapTokenAuthenticator } from './bootstrap-auth.js';
import type { ClientCertAuthenticator } from './client-cert.js';

export interface Authenticators {
  tokens?: Tokens;
  clientCerts?: ClientCertAuthenticator;
  /** --enable-bootstrap-token-auth. */
  bootstrap?: BootstrapTokenAuthenticator;
}

/** The peer certificate of a TLS connection, when the client sent one. */
export function peerCertificateOf(p: PeerCertificate | undefined | null): PeerCertificate | undefined {
  return p && p.raw && p.raw.length > 0 ? p : undefined;
}

/** True when any authenticator is configured (authentication, and so authorization, is on). */
export function authenticationOn(a: Authenticators): boolean {
  return Boolean(a.tokens || a.clientCerts || a.bootstrap);
}

export function authenticateRequest(header: string | undefined, peer: PeerCertificate | undefined, a: Authenticators): Identity {
  if (peer && a.clientCerts) return a.clientCerts.identify(peer);
  if (!authenticationOn(a)) return ANONYMOUS;
  const bearer = header ? /^Bearer\s+(.+)$/i.exec(header.trim())?.[1] : undefined;
  if (a.bootstrap && bearer && !a.tokens?.has(bearer) && BootstrapTokenAuthenticator.looksLike(bearer)) {
    const who = a.bootstrap.identify(bearer);
    if (!who) throw errors.unauthorized('the bearer token is not valid');
    return who;
  }
  if (!a.tokens) {
    throw errors.unauthorized(a.bootstrap
      ? 'the bearer token is not valid: send a client certificate signed by the client CA or a bootstrap token'
      : 'this control plane requires a client certificate signed by its client CA');
  }
  return authenticateHeader(header, a.tokens);
}
