// Pod spec immutability through the API server (real etcd): only images, a lower
// activeDeadlineSeconds and added tolerations change; status updates and binding still work.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../proto/api/errors.js';
import { fromManifest } from '../../proto/api/manifest.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { testStore, type TestStore } from '../../test/helpers/etcd-client.js';
import { AgentApi } from '../../node-agent/api-client.js';
import { SharedInformers } from '../informers.js';
import { startApiServer, type RunningApiServer } from './server.js';
import { TEST_CLIENT_TLS, TEST_KUBELET_TLS, TEST_SERVING } from '../../test/helpers/tls.js';

const log = pino({ level: process.env.SKIFF_TEST_LOG ?? 'silent' });
let ts: TestStore;
let informers: SharedInformers;
let server: RunningApiServer;
let client: AgentApi;

beforeAll(async () => {
  ts = testStore();
  informers = new SharedInformers(ts.store);
  server = await startApiServer({ tls: TEST_SERVING, kubelet: TEST_KUBELET_TLS, store: ts.store, informers, listen: '127.0.0.1:0', log });
  client = new AgentApi({ tls: TEST_CLIENT_TLS, address: `127.0.0.1:${server.port}` });
});
afterAll(async () => {
  client.close();
  await server.stop();
  await informers.stop();
  await ts.close();
});

const create = (name: string): Promise<Pod> =>
  client.create('Pod', fromManifest({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { activeDeadlineSeconds: 600, containers: [{ name: 'app', image: 'web:1' }] },
  }).object as Pod);

async function refused(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (e instanceof ApiError) return e;
  throw new Error(`expected an ApiError, got ${String(e)}`);
}

describe('pod updates through the API', () => {
  it('refuses a changed command with Invalid naming the path; allows image, deadline, binding and status', async () => {
    const pod = await create('u1');
    const bad = structuredClone(pod);
    bad.spec!.containers[0]!.command = ['sh', '-c', 'true'];
    const e = await refused(client.update('Pod', bad));
    expect(e.code).toBe('Invalid');
    expect(e.causes.map((c) => c.field)).toEqual(['spec']);
    expect(e.causes[0]!.message).toContain('pod updates may not change fields other than');
    expect(e.causes[0]!.message).toContain('(changed: spec.containers[0].command)');

    const ok = structuredClone(pod);
    ok.spec!.containers[0]!.image = 'web:2';
    ok.spec!.activeDeadlineSeconds = 300;
    ok.spec!.nodeName = 'n1';
    ok.spec!.tolerations.push({ key: 'k', operator: 'Exists', value: '', effect: 'NoSchedule' });
    const saved = await client.update('Pod', ok);
    expect(saved.spec).toMatchObject({ nodeName: 'n1', activeDeadlineSeconds: 300 });
    expect(saved.spec?.containers[0]?.image).toBe('web:2');

    const raise = structuredClone(saved);
    raise.spec!.activeDeadlineSeconds = 900;
    expect((await refused(client.update('Pod', raise))).causes.map((c) => c.field)).toEqual(['spec.activeDeadlineSeconds']);

    const status = await client.update('Pod', { ...saved, status: { ...saved.status!, phase: 'Running' } }, 'status');
    expect(status.status?.phase).toBe('Running');
  });
});
