// The REST API's HTTP-level answers: authentication, unknown paths and methods, body limits,
// server-side apply, Table responses — as Status objects with Kubernetes' codes.
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRestCluster, type RestCluster } from '../../test/helpers/rest-cluster.js';

let c: RestCluster;

interface Answer {
  code: number;
  type: string;
  body: Record<string, unknown>;
}

function call(method: string, path: string, opts: { token?: string | null; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const token = opts.token === undefined ? c.token : opts.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    const req = request(`${c.url}${path}`, { method, headers, ca: c.ca }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

beforeAll(async () => {
  c = await startRestCluster({ agent: false });
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

describe('REST API errors and formats', () => {
  it('401 without or with a wrong token; /version is open', async () => {
    for (const token of [null, 'wrong']) {
      const r = await call('GET', '/api/v1/namespaces/default/pods', { token });
      expect(r.code).toBe(401);
      expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
    }
    const v = await call('GET', '/version', { token: null });
    expect(v.code).toBe(200);
    expect(v.body.major).toBe('1');
  });

  it('404 for unknown paths and objects, 405 for wrong methods, 413 for large bodies, 415 for server-side apply', async () => {
    expect((await call('GET', '/apis/batch/v1/jobs')).code).toBe(404);
    const missing = await call('GET', '/api/v1/namespaces/default/pods/nope');
    expect(missing).toMatchObject({ code: 404, body: { reason: 'NotFound', details: { name: 'nope' } } });
    expect((await call('PUT', '/api/v1/namespaces/default/pods', { body: '{}' })).body).toMatchObject({ reason: 'MethodNotAllowed', code: 405 });
    const big = await call('POST', '/api/v1/namespaces/default/pods', { body: 'x'.repeat(3 * 1024 * 1024 + 10), headers: { 'Content-Type': 'application/json' } });
    expect(big.body).toMatchObject({ reason: 'RequestEntityTooLarge', code: 413 });
    const ssa = await call('PATCH', '/api/v1/namespaces/default/pods/p', { body: 'kind: Pod', headers: { 'Content-Type': 'application/apply-patch+yaml' } });
    expect(ssa.body).toMatchObject({ reason: 'UnsupportedMediaType', code: 415 });
  });

  it('422 with causes for an invalid object, 409 for a taken name', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'skiff/hello:1', bogus: 1 }] } };
    const bad = await call('POST', '/api/v1/namespaces/default/pods', { body: JSON.stringify(pod), headers: { 'Content-Type': 'application/json' } });
    expect(bad.code).toBe(422);
    expect(bad.body).toMatchObject({ reason: 'Invalid', details: { causes: [{ field: 'spec.containers[0].bogus' }] } });
    const good = { ...pod, spec: { containers: [{ name: 'a', image: 'skiff/hello:1' }] } };
    expect((await call('POST', '/api/v1/namespaces/default/pods', { body: JSON.stringify(good), headers: { 'Content-Type': 'application/json' } })).code).toBe(201);
    const again = await call('POST', '/api/v1/namespaces/default/pods', { body: JSON.stringify(good), headers: { 'Content-Type': 'application/json' } });
    expect(again.body).toMatchObject({ reason: 'AlreadyExists', code: 409 });
  });

  it('answers Tables with the columns of skiff get, wide ones at priority 1', async () => {
    const r = await call('GET', '/api/v1/namespaces/default/pods', { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } });
    expect(r.body.kind).toBe('Table');
    const cols = r.body.columnDefinitions as { name: string; priority: number }[];
    expect(cols.map((x) => x.name)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE']);
    expect(cols.map((x) => x.priority)).toEqual([0, 0, 0, 0, 0, 1, 1]);
    const rows = r.body.rows as { cells: string[]; object: { kind: string; metadata: { name: string } } }[];
    expect(rows[0]!.cells.slice(0, 3)).toEqual(['p', '0/1', 'Pending']);
    expect(rows[0]!.object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'p' } });
  });
});
