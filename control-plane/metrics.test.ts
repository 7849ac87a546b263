import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { metricsAccess, Metrics, serveMetrics } from './metrics.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function serve(insecure: boolean, tokens?: Map<string, string>): Promise<string> {
  const m = new Metrics();
  m.apiRequests.inc({ verb: 'get', kind: 'Pod', code: 'OK' });
  const { port, server } = await serveMetrics(m, '127.0.0.1:0', metricsAccess(insecure, tokens));
  servers.push(server);
  return `http://127.0.0.1:${port}/metrics`;
}

describe('/metrics access', () => {
  it('wants a bearer token the API accepts', async () => {
    const url = await serve(false, new Map([['good', 'admin']]));
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await fetch(url, { headers: { authorization: 'Bearer bad' } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Basic good' } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: 'Bearer good' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/skiff_api_requests_total\{verb="get",kind="Pod",code="OK"\} 1/);
  });

  it('with --metrics-insecure answers anyone', async () => {
    const url = await serve(true);
    expect((await fetch(url)).status).toBe(200);
  });
});
