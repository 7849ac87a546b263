// Asking the control plane for a client certificate, as the kubelet does: a new P-256 key, a
// CSR for system:node:<name> in system:nodes posted to signer
// kubernetes.io/kube-apiserver-client-kubelet, then waiting until the signer has written
// status.certificate (or the request is Denied or Failed). The key never leaves the agent.
import { CSR_CONDITIONS, csrCondition, SIGNERS } from '../../proto/api/csr.js';
import { ApiError, errors } from '../../proto/api/errors.js';
import { createCsr, NODE_USER_PREFIX, NODES_GROUP } from '../../proto/api/pki/index.js';
import type { Clock } from '../../proto/api/clock.js';
import { CertificateSigningRequest } from '../../proto/gen/skiff/v1/certificates.js';
import type { AgentApi } from '../api-client.js';

export interface RequestOptions {
  nodeName: string;
  clock: Clock;
  /** How often the request is read back while pending. */
  pollMs?: number;
  /** Give up after this long (the caller retries). */
  timeoutMs?: number;
  /** spec.expirationSeconds; unset: the signer's duration. */
  expirationSeconds?: number;
}

const sleep = (clock: Clock, ms: number): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, ms));

export async function requestClientCertificate(api: AgentApi, o: RequestOptions): Promise<{ cert: string; key: string; name: string }> {
  const { csr, key } = await createCsr({ commonName: `${NODE_USER_PREFIX}${o.nodeName}`, organizations: [NODES_GROUP] });
  const created = await api.create('CertificateSigningRequest', CertificateSigningRequest.fromPartial({
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest',
    metadata: { generateName: 'node-csr-' },
    spec: {
      request: Buffer.from(csr), signerName: SIGNERS.kubeletClient, usages: ['digital signature', 'client auth'],
      expirationSeconds: o.expirationSeconds,
    },
  }));
  const name = created.metadata?.name ?? '';
  const deadline = o.clock.now() + (o.timeoutMs ?? 15 * 60_000);
  for (let cur = created; ; cur = await api.get('CertificateSigningRequest', '', name)) {
    const cert = Buffer.from(cur.status?.certificate ?? []).toString('utf8');
    if (cert) return { cert, key, name };
    for (const t of [CSR_CONDITIONS.denied, CSR_CONDITIONS.failed]) {
      const c = csrCondition(cur, t);
      if (c) throw errors.forbidden(`certificate signing request ${name} was ${t.toLowerCase()}: ${c.reason} ${c.message}`.trim(), 'CertificateSigningRequest', name);
    }
    if (o.clock.now() >= deadline) throw new ApiError('Timeout', `certificate signing request ${name} was not signed within ${Math.round((o.timeoutMs ?? 900_000) / 1000)} s (is it approved? skiff certificate approve ${name})`);
    await sleep(o.clock, o.pollMs ?? 1000);
  }
}
