// The control plane's /metrics port: HTTPS with its serving certificate, scrapers let in by a
// bearer token or a client certificate of --client-ca-file, everyone with --metrics-insecure.
import { afterEach, describe, expect, it } from 'vitest';
import { createCa, issueCertificate } from '../proto/api/pki/index.js';
import type { MetricsServer } from '../proto/api/metrics-auth.js';
import { httpsFetch } from '../test/helpers/https.js';
import { TEST_CA, TEST_SERVING, testClientCertificate } from '../test/helpers/tls.js';
import { metricsAccess, Metrics, serveMetrics } from './metrics.js';

const servers: MetricsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function serve(insecure: boolean, tokens?: Map<string, string>, clientCa = false): Promise<number> {
  const m = new Metrics();
  m.apiRequests.inc({ verb: 'get', kind: 'Pod', code: 'OK' });
  const tls = { cert: TEST_SERVING.cert, key: TEST_SERVING.key, clientCa: clientCa ? TEST_CA.cert : undefined };
  const { port, server } = await serveMetrics(m, '127.0.0.1:0', metricsAccess(insecure, tokens, clientCa), tls);
  servers.push(server);
  return port;
}

describe('/metrics access', () => {
  it('is HTTPS only: plaintext and a client trusting another CA get nothing', async () => {
    const port = await serve(true);
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
    const other = await createCa('not-the-cluster-ca');
    await expect(httpsFetch(`https://127.0.0.1:${port}/metrics`, {}, other.cert)).rejects.toThrow(/self-signed|unable to verify|certificate/i);
    expect((await httpsFetch(`https://127.0.0.1:${port}/metrics`)).status).toBe(200);
  });

  it('wants a bearer token the API accepts', async () => {
    const url = `https://127.0.0.1:${await serve(false, new Map([['good', 'admin']]))}/metrics`;
    const none = await httpsFetch(url);
    expect(none.status).toBe(401);
    expect((await httpsFetch(url, { headers: { authorization: 'Bearer bad' } })).status).toBe(401);
    expect((await httpsFetch(url, { headers: { authorization: 'Basic good' } })).status).toBe(401);
    const ok = await httpsFetch(url, { headers: { authorization: 'Bearer good' } });
    expect(ok.status).toBe(200);
    expect(ok.text).toMatch(/skiff_api_requests_total\{verb="get",kind="Pod",code="OK"\} 1/);
  });

  it('with --client-ca-file lets in any user that CA signed, alongside tokens', async () => {
    const url = `https://127.0.0.1:${await serve(false, new Map([['good', 'admin']]), true)}/metrics`;
    const prometheus = await testClientCertificate('prometheus', ['monitoring']);
    const ok = await httpsFetch(url, { cert: prometheus.cert, key: prometheus.key });
    expect(ok.status).toBe(200);
    expect(ok.text).toMatch(/skiff_api_requests_total/);
    expect((await httpsFetch(url, { headers: { authorization: 'Bearer good' } })).status).toBe(200);
    const none = await httpsFetch(url);
    expect(none.status).toBe(401);
    expect(none.text).toMatch(/Bearer <token>.* or a client certificate/);
    // Same name, another CA: it names no one here.
    const other = await createCa('other-ca');
    const forged = await issueCertificate(other, { subject: { commonName: 'prometheus' }, usages: ['client'] });
    const refused = await httpsFetch(url, { cert: forged.cert, key: forged.key });
    expect(refused.status).toBe(401);
    expect(refused.text).toMatch(/client certificate is not accepted/);
  });

  it('without --client-ca-file a client certificate is no credential', async () => {
    const url = `https://127.0.0.1:${await serve(false, new Map([['good', 'admin']]))}/metrics`;
    const prometheus = await testClientCertificate('prometheus');
    expect((await httpsFetch(url, { cert: prometheus.cert, key: prometheus.key })).status).toBe(401);
  });

  it('with --metrics-insecure answers anyone, still over TLS', async () => {
    const port = await serve(true);
    expect((await httpsFetch(`https://127.0.0.1:${port}/metrics`)).status).toBe(200);
  });
});
