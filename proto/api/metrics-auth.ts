// The check both /metrics endpoints (control plane and node agent) make before answering, as
// Kubernetes components' secure metrics ports do: served over TLS with the process's serving
// certificate, a scraper is let in by a bearer token the process accepts or by a client
// certificate of the process's client CA whose user it accepts, unless the process was started
// with --metrics-insecure. Metrics name pods, nodes and request rates, so they are not for
// anyone who can reach the port.
import { constantTimeEqual } from './constant-time.js';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { TLSSocket } from 'node:tls';

/** insecure: anyone may scrape; otherwise a good bearer token or a client certificate's user. */
export type MetricsAccess =
  | { insecure: true }
  | {
    insecure: false;
    /** Whether a bearer token is good; undefined: no token is. */
    accepts?: (token: string) => boolean;
    /**
     * Whether the user (CN) and groups (O) of a client certificate the TLS handshake verified
     * against the client CA may scrape; undefined: no certificate is enough.
     */
    acceptsUser?: (user: string, groups: readonly string[]) => boolean;
  };

/** PEM texts of the metrics port's TLS. */
export interface MetricsTls {
  cert: string;
  key: string;
  /** CA whose client certificates authenticate scrapers; undefined: tokens only. */
  clientCa?: string;
}

export type MetricsServer = HttpServer | HttpsServer;

/** Accepts exactly one token, compared in constant time. */
export function singleToken(token: string): (candidate: string) => boolean {
  return (candidate) => constantTimeEqual(candidate, token);
}

/**
 * HTTPS with tls; plain HTTP only without (the agent with no serving certificate). The
 * certificate is asked for but not required at the TLS layer, so token scrapers still connect;
 * authorizeMetrics decides.
 */
export function createMetricsServer(tls: MetricsTls | undefined, handler: RequestListener): MetricsServer {
  if (!tls) return createHttpServer(handler);
  return createHttpsServer({
    cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2',
    ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
  }, handler);
}

function first(v: string | string[] | undefined): string {
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

function all(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Why the request's client certificate lets no one in; '' when it does. */
function certificateRefusal(req: IncomingMessage, acceptsUser: (user: string, groups: readonly string[]) => boolean): string {
  const sock = req.socket;
  if (!(sock instanceof TLSSocket)) return '';
  const peer = sock.getPeerCertificate();
  if (!peer || Object.keys(peer).length === 0) return '';
  // authorized: the handshake verified the chain against the client CA (and its validity dates
  // and client-auth purpose); a certificate of any other CA names no one here.
  if (!sock.authorized) return `the client certificate is not accepted (${String(sock.authorizationError)}): it must be signed by this process's --client-ca-file`;
  const user = first(peer.subject?.CN);
  if (user && acceptsUser(user, all(peer.subject?.O))) return 'ok';
  return `user "${user}" may not read metrics`;
}

/** Answers 401 and returns false unless the request may read metrics. */
export function authorizeMetrics(req: IncomingMessage, res: ServerResponse, access: MetricsAccess): boolean {
  if (access.insecure) return true;
  const certReason = access.acceptsUser ? certificateRefusal(req, access.acceptsUser) : '';
  if (certReason === 'ok') return true;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (m && access.accepts?.(m[1]!)) return true;
  const ways = [access.accepts ? '"Authorization: Bearer <token>" (a token this process accepts)' : '', access.acceptsUser ? 'a client certificate of its client CA' : '']
    .filter(Boolean).join(' or ');
  const why = m ? 'the bearer token is not accepted' : certReason || `metrics need ${ways || 'authentication this process was not configured for'}`;
  res.writeHead(401, { 'www-authenticate': 'Bearer realm="skiff-metrics"', 'content-type': 'text/plain' });
  res.end(`${why}\n`);
  return false;
}
