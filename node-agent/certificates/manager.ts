// The agent's client certificate over its life (kubelet TLS bootstrapping): at start, the
// current pair from --cert-dir if it is still valid (the bootstrap token is then not needed);
// otherwise a CSR posted with the bootstrap token. While running, renewal at 70-90 % of the
// lifetime with a CSR posted as the node itself; the new pair is stored, then handed to the
// API client (new calls and watches use it; calls in flight finish on the old channel). The
// old pair stays in use until a new one is issued; failures are logged and retried.
import type { Logger } from 'pino';
import { errors } from '../../proto/api/errors.js';
import type { Clock, Timer } from '../../proto/api/clock.js';
import { AgentApi } from '../api-client.js';
import { loadCurrent, storePair, type ClientPair } from './cert-dir.js';
import { requestClientCertificate } from './request.js';
import { renewalDeadline, retryDelayMs } from './rotation.js';
import { certificateInfo } from '../../proto/api/pki/index.js';

export interface ClientCertificateOptions {
  certDir: string;
  nodeName: string;
  controlPlane: string;
  /** The cluster CA (PEM) the control plane's certificate is checked against. */
  ca: string;
  /** "<id>.<secret>"; needed only when the cert dir has no valid pair. */
  bootstrapToken?: string;
  clock: Clock;
  log: Logger;
  /** spec.expirationSeconds of every CSR (unset: the signer's duration). */
  expirationSeconds?: number;
  pollMs?: number;
}

/** The pair as the cert dir holds it (each PEM ending in one newline), with its validity. */
function pairOf(certPem: string, keyPem: string): ClientPair {
  const cert = `${certPem.trimEnd()}\n`;
  const key = `${keyPem.trimEnd()}\n`;
  const info = certificateInfo(cert);
  return { cert, key, notBefore: info.notBefore, notAfter: info.notAfter };
}

/** The pair to start with: the stored one, or one bootstrapped with the token. */
export async function ensureClientCertificate(o: ClientCertificateOptions): Promise<ClientPair> {
  const now = new Date(o.clock.now());
  const current = await loadCurrent(o.certDir, now);
  if (current) {
    o.log.info({ certDir: o.certDir, notAfter: current.notAfter.toISOString() }, 'using the stored client certificate');
    return current;
  }
  if (!o.bootstrapToken) {
    throw errors.unauthorized(`no valid client certificate in ${o.certDir} and no bootstrap token to ask for one (--bootstrap-token-file)`);
  }
  o.log.info({ certDir: o.certDir }, 'no valid client certificate: requesting one with the bootstrap token');
  const api = new AgentApi({ address: o.controlPlane, token: o.bootstrapToken, tls: { ca: o.ca } });
  // At start nothing else holds the process open, and the clock's timers do not (they are
  // unref'd), so without this the agent would exit while it waits for its certificate.
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    const issued = await requestClientCertificate(api, { nodeName: o.nodeName, clock: o.clock, expirationSeconds: o.expirationSeconds, pollMs: o.pollMs });
    await storePair(o.certDir, issued.cert, issued.key, new Date(o.clock.now()));
    o.log.info({ csr: issued.name }, 'client certificate issued');
    return pairOf(issued.cert, issued.key);
  } finally {
    clearInterval(keepAlive);
    api.close();
  }
}

/** Renews the pair in use before it expires and hands each new one to the API client. */
export class CertificateRotator {
  private timer?: Timer;
  private stopped = false;
  private attempt = 0;
  /** Renewals done (tests and logs). */
  rotations = 0;

  constructor(
    private readonly api: AgentApi,
    private pair: ClientPair,
    private readonly o: ClientCertificateOptions,
    private readonly random: () => number = Math.random,
  ) {}

  get current(): ClientPair {
    return this.pair;
  }

  start(): void {
    this.schedule(renewalDeadline(this.pair.notBefore, this.pair.notAfter, this.random()).getTime() - this.o.clock.now());
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.o.clock.setTimeout(() => {
      this.rotate().catch((e: unknown) => this.o.log.error({ err: e instanceof Error ? e.message : String(e) }, 'certificate rotation failed unexpectedly'));
    }, Math.max(0, ms));
  }

  /** One renewal; on failure the next try is scheduled (the current pair stays in use). */
  async rotate(): Promise<void> {
    if (this.stopped) return;
    try {
      const issued = await requestClientCertificate(this.api, { nodeName: this.o.nodeName, clock: this.o.clock, expirationSeconds: this.o.expirationSeconds, pollMs: this.o.pollMs });
      await storePair(this.o.certDir, issued.cert, issued.key, new Date(this.o.clock.now()));
      this.pair = pairOf(issued.cert, issued.key);
      this.api.useClientCertificate(this.pair);
      this.rotations++;
      this.attempt = 0;
      this.o.log.info({ csr: issued.name, notAfter: this.pair.notAfter.toISOString() }, 'client certificate renewed');
      this.start();
    } catch (e) {
      this.attempt++;
      const delay = Math.min(retryDelayMs(this.attempt), Math.max(0, this.pair.notAfter.getTime() - this.o.clock.now()));
      this.o.log.warn({ err: e instanceof Error ? e.message : String(e), attempt: this.attempt, retryMs: delay }, 'renewing the client certificate failed; retrying');
      this.schedule(delay);
    }
  }
}
