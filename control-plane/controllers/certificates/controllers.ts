// The edges of the certificate controllers (kube-controller-manager's csrapproving,
// csrsigning, csrcleaner and tokencleaner): each reads the informer cache, asks its pure
// decide function (approve.ts, sign.ts, clean.ts, tokens.ts) and writes through the fenced
// controller client. A lost race (Conflict) or a vanished object is left to the next event.
import { isApiError } from '../../../proto/api/errors.js';
import { CSR_CONDITIONS } from '../../../proto/api/csr.js';
import { loadCa, readCsr, signCertificate, type Ca, type CertAndKey, type ParsedCsr } from '../../../proto/api/pki/index.js';
import { realClock, type Clock } from '../../../proto/api/clock.js';
import type { CertificateSigningRequest } from '../../../proto/gen/skiff/v1/certificates.js';
import type { Secret } from '../../../proto/gen/skiff/v1/config.js';
import type { Identity } from '../../api/auth.js';
import type { Attributes } from '../../authz/attributes.js';
import type { SharedInformers } from '../../informers.js';
import { copyObject, type ControllerClient } from '../client.js';
import type { Result } from '../runtime/controller.js';
import type { Logger } from '../runtime/log.js';
import { decideApproval } from './approve.js';
import { csrDueInMs } from './clean.js';
import { planSigning } from './sign.js';
import { tokenDueInMs } from './tokens.js';
import { KindRunner } from './watch.js';

export interface CertificateControllersDeps {
  informers: SharedInformers;
  client: ControllerClient;
  /** A SubjectAccessReview: may this requester do this (RBAC, as the API server would decide)? */
  may: (who: Identity, a: Attributes) => boolean;
  /** --cluster-signing-cert-file/--cluster-signing-key-file; no signer runs without it. */
  signingCa?: CertAndKey;
  /** --cluster-signing-duration. */
  signingDurationMs: number;
  clock?: Clock;
  log?: Logger;
}

function parsed(csr: CertificateSigningRequest): ParsedCsr | undefined {
  try {
    return readCsr(Buffer.from(csr.spec?.request ?? []).toString('utf8'));
  } catch {
    return undefined;
  }
}

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** NotFound and Conflict are the next event's business. */
function settled(e: unknown): Result {
  if (isApiError(e, 'NotFound') || isApiError(e, 'Conflict')) return {};
  throw e;
}

export class CertificateControllers {
  private readonly runners: { start(): Promise<void>; stop(): Promise<void> }[] = [];
  private ca?: Ca;
  private readonly clock: Clock;

  constructor(private readonly d: CertificateControllersDeps) {
    this.clock = d.clock ?? realClock;
    const opts = { log: d.log, clock: this.clock };
    this.runners.push(
      new KindRunner(d.informers, 'CertificateSigningRequest', 'csrapproving', (c) => this.approve(c), opts),
      new KindRunner(d.informers, 'CertificateSigningRequest', 'csrcleaner', (c) => this.cleanCsr(c), opts),
      new KindRunner(d.informers, 'Secret', 'tokencleaner', (s) => this.cleanToken(s), opts),
    );
    if (d.signingCa) this.runners.push(new KindRunner(d.informers, 'CertificateSigningRequest', 'csrsigning', (c) => this.sign(c), opts));
  }

  async start(): Promise<void> {
    if (this.d.signingCa) this.ca = await loadCa(this.d.signingCa);
    for (const r of this.runners) await r.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop()));
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  async approve(csr: CertificateSigningRequest): Promise<Result> {
    const verdict = decideApproval(csr, parsed(csr), this.d.may);
    if (!verdict) return {};
    const next = copyObject('CertificateSigningRequest', csr);
    const status = (next.status ??= { conditions: [], certificate: Buffer.alloc(0) });
    const t = rfc3339(this.now());
    status.conditions.push({
      type: CSR_CONDITIONS.approved, status: 'True', reason: verdict.reason, message: verdict.message,
      lastUpdateTime: t, lastTransitionTime: t, lastProbeTime: '', lastHeartbeatTime: '',
    });
    return this.d.client.updateStatus('CertificateSigningRequest', next).then(() => ({}), settled);
  }

  async sign(csr: CertificateSigningRequest): Promise<Result> {
    const p = parsed(csr);
    const plan = planSigning(csr, p, this.d.signingDurationMs);
    if (!plan || !this.ca) return {};
    const next = copyObject('CertificateSigningRequest', csr);
    const status = (next.status ??= { conditions: [], certificate: Buffer.alloc(0) });
    if ('fail' in plan) {
      const t = rfc3339(this.now());
      status.conditions.push({ type: CSR_CONDITIONS.failed, status: 'True', ...plan.fail, lastUpdateTime: t, lastTransitionTime: t, lastProbeTime: '', lastHeartbeatTime: '' });
    } else {
      const pem = await signCertificate(this.ca, p!.publicKey, { subject: p!.subject, usages: plan.issue.usages, hosts: plan.issue.hosts, durationMs: plan.issue.durationMs, now: this.now() });
      status.certificate = Buffer.from(pem);
      this.d.log?.info({ csr: csr.metadata?.name, subject: p!.subject.commonName, durationMs: plan.issue.durationMs }, 'signed certificate');
    }
    return this.d.client.updateStatus('CertificateSigningRequest', next).then(() => ({}), settled);
  }

  async cleanCsr(csr: CertificateSigningRequest): Promise<Result> {
    const due = csrDueInMs(csr, this.now());
    if (due > 0) return { requeueAfterMs: due };
    const m = csr.metadata!;
    return this.d.client.delete('CertificateSigningRequest', '', m.name, { preconditions: { uid: m.uid } }).then(() => ({}), settled);
  }

  async cleanToken(s: Secret): Promise<Result> {
    const due = tokenDueInMs(s, this.now());
    if (due === undefined) return {};
    if (due > 0) return { requeueAfterMs: due };
    const m = s.metadata!;
    return this.d.client.delete('Secret', m.namespace, m.name, { preconditions: { uid: m.uid } }).then(() => ({}), settled);
  }
}
