// skiff token create|list|delete and skiff certificate approve|deny against the in-process API
// server with bootstrap-token authentication on a real etcd: a created token authenticates,
// a deleted one no longer does, and a CSR is decided through /approval.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import { parseTokens } from '../../control-plane/api/auth.js';
import { startTestServer, type TestServer } from '../../control-plane/api/testing.js';
import { unwrapAs, wrap } from '../../proto/api/kinds.js';
import { createCsr } from '../../proto/api/pki/index.js';
import { CertificateSigningRequest } from '../../proto/gen/skiff/v1/certificates.js';
import { testStore, type TestStore } from '../helpers/etcd-client.js';
import { testTlsFiles } from '../helpers/tls.js';
import { until } from '../helpers/wait.js';

let ts: TestStore;
let server: TestServer;
let home = '';

async function skiff(token: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { HOME: home, SKIFF_SERVER: `127.0.0.1:${server.server.port}`, SKIFF_TOKEN: token, SKIFF_CERTIFICATE_AUTHORITY: (await testTlsFiles()).caFile },
    interactive: false,
    readStdin: () => Promise.resolve(''),
  });
  return { code, out, err };
}

beforeAll(async () => {
  ts = testStore();
  server = await startTestServer(ts.store, { tokens: parseTokens('adm,admin,admin,"system:masters"\n'), bootstrapTokenAuth: true });
  home = await mkdtemp(join(tmpdir(), 'skiff-token-home-'));
});

afterAll(async () => {
  await server?.stop();
  await ts?.close();
  await rm(home, { recursive: true, force: true });
});

describe('skiff token', () => {
  it('create prints a token that authenticates; list shows its id; delete ends it', async () => {
    const created = await skiff('adm', ['token', 'create', '--ttl', '1h', '--description', 'node n2', '--groups', 'system:bootstrappers:workers']);
    expect(created.code).toBe(0);
    const token = created.out.trim();
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const id = token.slice(0, 6);
    await until(async () => (await skiff(token, ['auth', 'whoami'])).code === 0, 10_000, 'the token in the cache');
    expect((await skiff(token, ['auth', 'whoami'])).out).toContain(`system:bootstrap:${id}`);
    expect((await skiff(token, ['auth', 'whoami'])).out).toContain('system:bootstrappers:workers');
    const list = await skiff('adm', ['token', 'list']);
    expect(list.out).toMatch(new RegExp(`${id}\\.<secret>\\s+(59m|1h)\\S*\\s+\\S+Z\\s+authentication\\s+node n2\\s+system:bootstrappers:workers`));
    expect(list.out).not.toContain(token);
    expect(await skiff('adm', ['token', 'delete', id])).toMatchObject({ code: 0, out: `bootstrap token "${id}" deleted\n` });
    await until(async () => (await skiff(token, ['auth', 'whoami'])).code !== 0, 10_000, 'the token gone from the cache');
  });

  it('refuses a bad --ttl, a bad group and a malformed given token', async () => {
    expect((await skiff('adm', ['token', 'create', '--ttl', 'soon'])).err).toMatch(/invalid --ttl "soon"/);
    expect((await skiff('adm', ['token', 'create', '--groups', 'admins'])).err).toMatch(/--groups: "admins" must match/);
    expect((await skiff('adm', ['token', 'create', 'ABC.def'])).err).toMatch(/must have the form/);
  });
});

describe('skiff certificate', () => {
  it('approve and deny write the condition through /approval; get csr shows it', async () => {
    for (const name of ['c-approve', 'c-deny']) {
      await server.api.create({ object: wrap('CertificateSigningRequest', CertificateSigningRequest.fromPartial({
        metadata: { name },
        spec: { request: Buffer.from((await createCsr({ commonName: name })).csr), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'] },
      })) });
    }
    expect(await skiff('adm', ['certificate', 'approve', 'c-approve'])).toMatchObject({ code: 0, out: 'certificatesigningrequest.certificates.k8s.io/c-approve approved\n' });
    expect(await skiff('adm', ['certificate', 'deny', 'c-deny'])).toMatchObject({ code: 0, out: 'certificatesigningrequest.certificates.k8s.io/c-deny denied\n' });
    const get = (name: string) => server.api.get({ kind: 'csr', name }).then((r) => unwrapAs('CertificateSigningRequest', r).status?.conditions.map((c) => c.type));
    expect(await get('c-approve')).toEqual(['Approved']);
    expect(await get('c-deny')).toEqual(['Denied']);
    const table = (await skiff('adm', ['get', 'csr'])).out;
    expect(table).toMatch(/c-approve\s+\S+\s+kubernetes\.io\/kube-apiserver-client\s+admin\s+<none>\s+Approved/);
    expect(table).toMatch(/c-deny\s+.*Denied/);
    // Reversing a verdict is refused by the server.
    expect((await skiff('adm', ['certificate', 'approve', 'c-deny'])).code).toBe(1);
  });
});
