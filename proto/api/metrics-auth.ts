// The check both /metrics endpoints (control plane and node agent) make before answering: a
// bearer token the process accepts, unless it was started with --metrics-insecure. Metrics name
// pods, nodes and request rates, so they are not for anyone who can reach the port.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** insecure: anyone may scrape; otherwise accepts says whether a bearer token is good. */
export type MetricsAccess = { insecure: true } | { insecure: false; accepts: (token: string) => boolean };

/** Accepts exactly one token, compared in constant time. */
export function singleToken(token: string): (candidate: string) => boolean {
  const want = Buffer.from(token);
  return (candidate) => {
    const got = Buffer.from(candidate);
    return got.length === want.length && timingSafeEqual(got, want);
  };
}

/** Answers 401 and returns false unless the request may read metrics. */
export function authorizeMetrics(req: IncomingMessage, res: ServerResponse, access: MetricsAccess): boolean {
  if (access.insecure) return true;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (m && access.accepts(m[1]!)) return true;
  res.writeHead(401, { 'www-authenticate': 'Bearer realm="skiff-metrics"', 'content-type': 'text/plain' });
  res.end(m ? 'the bearer token is not accepted\n' : 'metrics need "Authorization: Bearer <token>" (a token the control plane accepts)\n');
  return false;
}
