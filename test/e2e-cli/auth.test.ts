// skiff auth can-i / whoami, --as, and how refusals print, against the in-process API server
// with tokens (so Node,RBAC is in force) on a real etcd.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import { parseTokens } from '../../control-plane/api/auth.js';
import { startTestServer, type TestServer } from '../../control-plane/api/testing.js';
import { testStore, type TestStore } from '../helpers/etcd-client.js';
import { testTlsFiles } from '../helpers/tls.js';
import { until } from '../helpers/wait.js';

let ts: TestStore;
let server: TestServer;
let home = '';

async function skiff(token: string, args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { HOME: home, SKIFF_SERVER: `127.0.0.1:${server.server.port}`, SKIFF_TOKEN: token, SKIFF_CERTIFICATE_AUTHORITY: (await testTlsFiles()).caFile },
    interactive: false,
    readStdin: () => Promise.resolve(stdin),
  });
  return { code, out, err };
}

const BINDING = `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bob-view, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: User, name: bob}]
`;

beforeAll(async () => {
  ts = testStore();
  server = await startTestServer(ts.store, { tokens: parseTokens('adm,admin,admin,"system:masters"\nbobt,bob,bob\n') });
  home = await mkdtemp(join(tmpdir(), 'skiff-auth-home-'));
  expect((await skiff('adm', ['apply', '-f', '-'], BINDING)).out).toBe('rolebinding.rbac.authorization.k8s.io/bob-view created\n');
  await until(async () => (await skiff('bobt', ['auth', 'can-i', 'list', 'pods'])).code === 0, 10_000, 'the binding in the cache');
});

afterAll(async () => {
  await server?.stop();
  await ts?.close();
  await rm(home, { recursive: true, force: true });
});

describe('skiff auth', () => {
  it('can-i prints yes or no and exits 0 or 1', async () => {
    expect(await skiff('bobt', ['auth', 'can-i', 'get', 'deploy'])).toEqual({ code: 0, out: 'yes\n', err: '' });
    expect(await skiff('bobt', ['auth', 'can-i', 'create', 'deployments.apps'])).toEqual({ code: 1, out: 'no\n', err: '' });
    expect(await skiff('bobt', ['auth', 'can-i', 'get', 'secrets', 'db'])).toEqual({ code: 1, out: 'no\n', err: '' });
    expect((await skiff('bobt', ['auth', 'can-i', 'list', 'pods', '-A'])).code).toBe(1);
    expect((await skiff('bobt', ['auth', 'can-i', 'list', 'pods', '-n', 'kube-system'])).code).toBe(1);
    expect((await skiff('bobt', ['auth', 'can-i', 'get', 'pods', '--subresource', 'log'])).code).toBe(0);
    expect((await skiff('bobt', ['auth', 'can-i', 'get', '/version'])).code).toBe(0);
    expect(await skiff('adm', ['auth', 'can-i', '*', '*'])).toEqual({ code: 0, out: 'yes\n', err: '' });
  });

  it('whoami prints the user and groups', async () => {
    expect((await skiff('bobt', ['auth', 'whoami'])).out).toBe('ATTRIBUTE   VALUE\nUsername    bob\nGroups      [system:authenticated]\n');
  });

  it('--as impersonates for cluster-admin only', async () => {
    expect(await skiff('adm', ['auth', 'can-i', 'create', 'deploy', '--as', 'bob'])).toEqual({ code: 1, out: 'no\n', err: '' });
    expect((await skiff('adm', ['auth', 'whoami', '--as', 'bob', '--as-group', 'team'])).out).toContain('Groups      [team system:authenticated]');
    const refused = await skiff('bobt', ['get', 'pods', '--as', 'admin']);
    expect(refused.code).toBe(1);
    expect(refused.err).toBe('error (Forbidden): users "admin" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope\n');
  });

  it('a refused apply prints Forbidden naming user, verb, resource and namespace', async () => {
    const r = await skiff('bobt', ['apply', '-f', 'deploy/examples/hello.yaml']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error (Forbidden): deployments.apps is forbidden: User "bob" cannot create resource "deployments" in API group "apps" in the namespace "default"\n');
  });
});
