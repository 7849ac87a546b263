// `skiff autoscale`, `get hpa` and `top` (runCli in-process) against a real API server over a
// real etcd, without controllers or nodes: what the CLI creates and prints before any metric.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrapAs } from '../../proto/api/kinds.js';
import { startTestServer, type TestServer } from '../../control-plane/api/testing.js';
import { runCli } from '../../cli/program.js';
import { testStore, type TestStore } from '../helpers/etcd-client.js';
import { testTlsFiles } from '../helpers/tls.js';

let ts: TestStore;
let server: TestServer;
let home = '';
let env: NodeJS.ProcessEnv = {};

async function skiff(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) },
    env, interactive: false, readStdin: () => Promise.resolve(stdin),
  });
  return { code, out, err };
}

beforeAll(async () => {
  ts = testStore();
  server = await startTestServer(ts.store);
  home = await mkdtemp(join(tmpdir(), 'skiff-autoscale-home-'));
  env = { HOME: home, SKIFF_SERVER: `127.0.0.1:${server.server.port}`, SKIFF_CERTIFICATE_AUTHORITY: (await testTlsFiles()).caFile };
  const web = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: skiff/hello:1, resources: {requests: {cpu: 100m}}}]}
`;
  expect((await skiff(['apply', '-f', '-'], web)).code).toBe(0);
});

afterAll(async () => {
  await server.stop();
  await ts.close();
  await rm(home, { recursive: true, force: true });
});

describe('skiff autoscale / get hpa / top', () => {
  it('creates an autoscaling/v2 HPA like kubectl autoscale and lists it with <unknown> targets', async () => {
    expect(await skiff(['autoscale', 'deploy/web', '--min', '2', '--max', '10', '--cpu-percent', '50'])).toEqual({
      code: 0, out: 'horizontalpodautoscaler.autoscaling/web autoscaled\n', err: '',
    });
    const h = unwrapAs('HorizontalPodAutoscaler', await server.api.get({ kind: 'hpa', namespace: 'default', name: 'web' }));
    expect(h.spec).toMatchObject({
      scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' }, minReplicas: 2, maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    });
    const got = await skiff(['get', 'hpa']);
    expect(got.out).toMatch(/^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\nweb\s+Deployment\/web\s+cpu: <unknown>\/50%\s+2\s+10\s+0\s+\S+\n$/);
    expect((await skiff(['describe', 'hpa', 'web'])).out).toMatch(/Reference:\s+Deployment\/web\n.*\n\s+resource cpu on pods\s+\(as a percentage of request\):\s+<unknown> \/ 50%\nMin replicas:\s+2\nMax replicas:\s+10\n/);
  });

  it('refuses what it cannot autoscale, with reasons', async () => {
    expect(await skiff(['autoscale', 'rs/web', '--max', '3'])).toMatchObject({ code: 1, err: expect.stringContaining('cannot autoscale replicasets') as string });
    expect(await skiff(['autoscale', 'deploy/web'])).toMatchObject({ code: 1, err: expect.stringContaining('--max=MAXPODS is required') as string });
    expect(await skiff(['autoscale', 'deploy/web', '--min', '5', '--max', '3'])).toMatchObject({ code: 1, err: expect.stringContaining('must be larger or equal to --min') as string });
    const sts = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: db}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: db}, maxReplicas: 3}
`;
    const r = await skiff(['apply', '-f', '-'], sts);
    expect(r.code).toBe(1);
    expect(r.err).toContain('spec.scaleTargetRef.kind: unsupported value "StatefulSet"');
  });

  it('says when there are no metrics yet, and refuses to write them', async () => {
    expect(await skiff(['top', 'pods'])).toMatchObject({ code: 1, err: expect.stringContaining('metrics not available yet') as string });
    expect(await skiff(['top', 'nodes'])).toMatchObject({ code: 1, err: expect.stringContaining('metrics not available yet') as string });
    const pm = 'apiVersion: metrics.k8s.io/v1beta1\nkind: PodMetrics\nmetadata: {name: x}\n';
    expect(await skiff(['apply', '-f', '-'], pm)).toMatchObject({ code: 1, err: expect.stringContaining('read-only') as string });
  });
});
