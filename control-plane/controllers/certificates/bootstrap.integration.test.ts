// Kubelet TLS bootstrapping end to end on a real etcd and the real API server: bootstrap token
// authentication under an injectable clock, the approver and signer, an agent's certificate
// store (first join, restart without the token, renewal) and node restriction for nodes that
// authenticate with their certificate.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapTokenData, bootstrapTokenSecretName, generateBootstrapToken } from '../../../proto/api/bootstrap-token.js';
import { ManualClock, realClock } from '../../../proto/api/clock.js';
import { isApproved, SIGNERS } from '../../../proto/api/csr.js';
import { ApiError } from '../../../proto/api/errors.js';
import { unwrapAs, wrap } from '../../../proto/api/kinds.js';
import { certificateInfo, createCsr } from '../../../proto/api/pki/index.js';
import { CertificateSigningRequest } from '../../../proto/gen/skiff/v1/certificates.js';
import { Secret } from '../../../proto/gen/skiff/v1/config.js';
import { Node } from '../../../proto/gen/skiff/v1/core.js';
import { AgentApi } from '../../../node-agent/api-client.js';
import { currentTarget, loadCurrent } from '../../../node-agent/certificates/cert-dir.js';
import { CertificateRotator, ensureClientCertificate } from '../../../node-agent/certificates/manager.js';
import { renewalDeadline } from '../../../node-agent/certificates/rotation.js';
import { testStore, type TestStore } from '../../../test/helpers/etcd-client.js';
import { TEST_CA, testClientCertificate } from '../../../test/helpers/tls.js';
import { until } from '../../../test/helpers/wait.js';
import { parseTokens } from '../../api/auth.js';
import { startTestServer, type TestApi, type TestServer } from '../../api/testing.js';
import { MASTERS_GROUP } from '../../authz/authorizer.js';
import { rbacAuthorize } from '../../authz/rbac.js';
import { InformerRbacSnapshot } from '../../authz/snapshot.js';
import { StoreControllerClient } from '../client.js';
import { CertificateControllers } from './controllers.js';

let ts: TestStore;
let srv: TestServer;
let admin: TestApi;
let controllers: CertificateControllers;
let dir: string;
/** The API server's clock: tests move it to expire tokens without sleeping. */
let offsetMs = 0;
const log = pino({ level: 'silent' });

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

/** A bootstrap token Secret written by the admin, expiring ttlMs after the server's now. */
async function makeToken(ttlMs: number): Promise<string> {
  const t = generateBootstrapToken();
  const s = Secret.fromPartial({
    metadata: { name: bootstrapTokenSecretName(t.id), namespace: 'kube-system' }, type: 'bootstrap.kubernetes.io/token',
    stringData: bootstrapTokenData({ id: t.id, secret: t.secret, expiration: new Date(Date.now() + offsetMs + ttlMs) }),
  });
  await admin.create({ object: wrap('Secret', s) });
  await until(() => srv.informers.get('Secret').get(`kube-system/${bootstrapTokenSecretName(t.id)}`) !== undefined, 10_000, 'token in the cache');
  return t.token;
}

const csrObject = async (commonName: string, orgs: string[] = ['system:nodes']): Promise<CertificateSigningRequest> => CertificateSigningRequest.fromPartial({
  metadata: { generateName: 'csr-' },
  spec: {
    request: Buffer.from((await createCsr({ commonName, organizations: orgs })).csr), signerName: SIGNERS.kubeletClient,
    usages: ['digital signature', 'client auth'],
    // Ignored: the server records the caller.
    username: 'system:masters-wannabe', groups: ['system:masters'],
  },
});

const agentOptions = (name: string, certDir: string, bootstrapToken?: string) => ({
  certDir, nodeName: name, controlPlane: `127.0.0.1:${srv.server.port}`, ca: TEST_CA.cert, bootstrapToken, clock: realClock, log, pollMs: 20,
});

beforeAll(async () => {
  ts = testStore();
  dir = await mkdtemp(join(tmpdir(), 'skiff-boot-'));
  srv = await startTestServer(ts.store, {
    tokens: parseTokens('admin-t,admin,admin,"system:masters"\n'), clientCa: TEST_CA.cert, bootstrapTokenAuth: true,
    now: () => new Date(Date.now() + offsetMs),
  });
  admin = srv.connect('admin-t');
  const rbac = new InformerRbacSnapshot(srv.informers);
  controllers = new CertificateControllers({
    informers: srv.informers,
    client: new StoreControllerClient(ts.store),
    may: (who, a) => who.groups.includes(MASTERS_GROUP) || rbacAuthorize(rbac, who, a).allowed,
    signingCa: TEST_CA,
    signingDurationMs: 3600_000,
    log,
  });
  await rbac.start();
  await controllers.start();
}, 60_000);

afterAll(async () => {
  await controllers?.stop();
  await srv?.stop();
  await ts?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('bootstrap tokens', () => {
  it('authenticate as system:bootstrap:<id> in system:bootstrappers within their TTL, and not after', async () => {
    const token = await makeToken(3600_000);
    const api = srv.connect(token);
    expect(await api.whoAmI()).toMatchObject({ username: `system:bootstrap:${token.slice(0, 6)}`, groups: ['system:bootstrappers', 'system:authenticated'] });
    offsetMs = 3600_000 + 1000;
    try {
      expect((await failure(api.whoAmI())).code).toBe('Unauthorized');
    } finally {
      offsetMs = 0;
    }
    expect((await api.whoAmI()).username).toBe(`system:bootstrap:${token.slice(0, 6)}`);
  });

  it('refuse an unknown token and a wrong secret like any bad token', async () => {
    const token = await makeToken(3600_000);
    const unknown = generateBootstrapToken().token;
    const e1 = await failure(srv.connect(unknown).whoAmI());
    const e2 = await failure(srv.connect(`${token.slice(0, 7)}${'a'.repeat(16)}`).whoAmI());
    expect([e1.code, e2.code]).toEqual(['Unauthorized', 'Unauthorized']);
    expect(e1.message).toBe(e2.message);
  });

  it('a malformed token Secret is refused with field paths', async () => {
    const s = Secret.fromPartial({
      metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' }, type: 'bootstrap.kubernetes.io/token',
      stringData: { 'token-id': 'ABCDEF', 'token-secret': 'short', expiration: 'tomorrow', 'usage-bootstrap-authentication': 'yes' },
    });
    const e = await failure(admin.create({ object: wrap('Secret', s) }));
    expect(e.code).toBe('Invalid');
    expect(e.causes.map((c) => c.field).sort()).toEqual(['data[expiration]', 'data[token-id]', 'data[token-secret]', 'data[usage-bootstrap-authentication]', 'metadata.name']);
  });
});

describe('certificate signing requests', () => {
  it('from a bootstrap identity: requester recorded by the server, approved and signed', async () => {
    const boot = srv.connect(await makeToken(3600_000));
    const created = unwrapAs('CertificateSigningRequest', await boot.create({ object: wrap('CertificateSigningRequest', await csrObject('system:node:fresh')) }));
    expect(created.spec?.username).toMatch(/^system:bootstrap:/);
    expect(created.spec?.groups).toEqual(['system:bootstrappers', 'system:authenticated']);
    const name = created.metadata!.name;
    let csr = created;
    await until(async () => {
      csr = unwrapAs('CertificateSigningRequest', await boot.get({ kind: 'csr', name }));
      return (csr.status?.certificate.length ?? 0) > 0;
    }, 20_000, 'the certificate');
    expect(isApproved(csr)).toBe(true);
    const info = certificateInfo(Buffer.from(csr.status!.certificate).toString());
    expect(info.subject).toEqual({ commonName: 'system:node:fresh', organizations: ['system:nodes'] });
    expect(info.notAfter.getTime() - info.notBefore.getTime()).toBeLessThanOrEqual(3600_000 + 5 * 60_000);
  });

  it('a request the kubelet signer cannot take is Invalid with its field paths', async () => {
    const bad = await csrObject('alice', ['dev']);
    bad.spec!.usages = ['client auth', 'server auth'];
    bad.spec!.expirationSeconds = 60;
    const e = await failure(admin.create({ object: wrap('CertificateSigningRequest', bad) }));
    expect(e.causes.map((c) => c.field).sort()).toEqual(['spec.expirationSeconds', 'spec.request', 'spec.request', 'spec.usages']);
  });

  it('approval needs approve on the signer as well as update on certificatesigningrequests/approval', async () => {
    // A user certificate request: nothing approves these automatically.
    const req = await csrObject('alice', ['dev']);
    req.spec!.signerName = SIGNERS.apiserverClient;
    req.spec!.usages = ['client auth'];
    const created = unwrapAs('CertificateSigningRequest', await admin.create({ object: wrap('CertificateSigningRequest', req) }));
    const cert = await testClientCertificate('approver');
    await admin.apply({
      documents: [{
        source: 'role', manifest: JSON.stringify({
          apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'csr-approval-only' },
          rules: [{ verbs: ['get', 'update'], apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests', 'certificatesigningrequests/approval'] }],
        }),
      }, {
        source: 'binding', manifest: JSON.stringify({
          apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'approver' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'csr-approval-only' }, subjects: [{ kind: 'User', name: 'approver' }],
        }),
      }],
    });
    const approver = srv.connect('', { ca: TEST_CA.cert, ...cert });
    const denied = CertificateSigningRequest.fromPartial({ ...created, status: { conditions: [{ type: 'Denied', status: 'True', reason: 'Test' }] } });
    const e = await failure(approver.update({ object: wrap('CertificateSigningRequest', denied), subresource: 'approval' }));
    expect(e.code).toBe('Forbidden');
    expect(e.message).toMatch(/cannot approve resource "signers"/);
    // The admin may; the verdict is kept and a reversal is refused.
    await admin.update({ object: wrap('CertificateSigningRequest', denied), subresource: 'approval' });
    const approved = CertificateSigningRequest.fromPartial({ ...created, metadata: { ...created.metadata, resourceVersion: '' }, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Test' }] } });
    expect((await failure(admin.update({ object: wrap('CertificateSigningRequest', approved), subresource: 'approval' }))).code).toBe('Invalid');
  });
});

describe('an agent joining', () => {
  it('gets its certificate with the bootstrap token, reuses it after a restart without the token, and renews it', async () => {
    const certDir = join(dir, 'n1');
    const token = await makeToken(3600_000);
    const pair = await ensureClientCertificate(agentOptions('n1', certDir, token));
    expect(certificateInfo(pair.cert).subject.commonName).toBe('system:node:n1');
    const first = await currentTarget(certDir);
    expect(first).toMatch(/^kubelet-client-\d{8}-\d{6}\.pem$/);

    // The token goes; a restart finds the stored certificate and needs no token.
    await admin.delete({ kind: 'Secret', namespace: 'kube-system', name: bootstrapTokenSecretName(token.slice(0, 6)) });
    const again = await ensureClientCertificate(agentOptions('n1', certDir));
    expect(again.cert).toBe(pair.cert);
    const api = new AgentApi({ address: `127.0.0.1:${srv.server.port}`, tls: { ca: TEST_CA.cert, cert: again.cert, key: again.key } });
    try {
      await api.list('Node');
      // Renewal as the node itself: a new certificate, stored and in use; a watch opened before goes on.
      const events: string[] = [];
      const watch = api.watch({ kind: 'Node', namespace: '', labelSelector: '', fieldSelector: '', resourceVersion: '', allowBookmarks: false });
      watch.on('data', (e: { type: string; object?: { object?: { value?: { metadata?: { name?: string } } } } }) => events.push(`${e.type} ${e.object?.object?.value?.metadata?.name ?? ''}`));
      watch.on('error', () => undefined);
      const rotator = new CertificateRotator(api, again, agentOptions('n1', certDir));
      await rotator.rotate();
      rotator.stop();
      expect(rotator.rotations).toBe(1);
      expect(rotator.current.cert).not.toBe(pair.cert);
      expect(certificateInfo(rotator.current.cert).subject.commonName).toBe('system:node:n1');
      expect((await loadCurrent(certDir, new Date()))?.cert).toBe(rotator.current.cert);
      await api.create('Node', Node.fromPartial({ metadata: { name: 'n1' } }));
      await until(() => events.includes('ADDED n1'), 10_000, 'the old watch sees the node');
      watch.cancel();

      // Node restriction holds for a certificate-authenticated node.
      await admin.create({ object: wrap('Node', Node.fromPartial({ metadata: { name: 'n2' } })) });
      const other = await api.get('Node', '', 'n2');
      expect((await failure(api.update('Node', other))).code).toBe('Forbidden');
      expect((await failure(api.delete({ kind: 'Deployment', namespace: 'default', name: 'web' }))).code).toBe('Forbidden');
      expect((await failure(api.list('Secret', { namespace: 'kube-system' }))).code).toBe('Forbidden');

      // A node asking for another node's name is left pending by the approver.
      const foreign = unwrapAs('CertificateSigningRequest', await srv.connect('', { ca: TEST_CA.cert, cert: rotator.current.cert, key: rotator.current.key })
        .create({ object: wrap('CertificateSigningRequest', await csrObject('system:node:n2')) }));
      expect(foreign.spec?.username).toBe('system:node:n1');
      await controllers.approve(foreign);
      expect(isApproved(unwrapAs('CertificateSigningRequest', await admin.get({ kind: 'csr', name: foreign.metadata!.name })))).toBe(false);
    } finally {
      api.close();
    }
  }, 60_000);

  it('renews on schedule: a 600 s certificate is replaced at 70-90 % of its lifetime, by the clock', async () => {
    const certDir = join(dir, 'n4');
    const pair = await ensureClientCertificate({ ...agentOptions('n4', certDir, await makeToken(3600_000)), expirationSeconds: 600 });
    const clock = new ManualClock(Date.now());
    const api = new AgentApi({ address: `127.0.0.1:${srv.server.port}`, tls: { ca: TEST_CA.cert, cert: pair.cert, key: pair.key } });
    const rotator = new CertificateRotator(api, pair, { ...agentOptions('n4', certDir), clock, expirationSeconds: 600 }, () => 0.5);
    try {
      rotator.start();
      const lifetime = pair.notAfter.getTime() - pair.notBefore.getTime();
      const due = renewalDeadline(pair.notBefore, pair.notAfter, 0.5).getTime() - clock.now();
      expect(clock.pendingDelays()).toEqual([due]);
      expect(Math.abs(clock.now() + due - (pair.notBefore.getTime() + 0.8 * lifetime))).toBeLessThanOrEqual(1);
      clock.advance(due - 1);
      expect(rotator.rotations).toBe(0);
      // Due now: the renewal posts its request and polls on the same clock.
      await until(() => {
        clock.advance(20);
        return rotator.rotations === 1;
      }, 20_000, 'the renewal');
      expect(rotator.current.cert).not.toBe(pair.cert);
      const info = certificateInfo(rotator.current.cert);
      expect(info.notAfter.getTime() - info.notBefore.getTime()).toBe(900_000); // 600 s asked + the signer's 5 min backdating
      await api.list('Node');
    } finally {
      rotator.stop();
      api.close();
    }
  }, 60_000);

  it('without a stored certificate and without a token it says what is missing', async () => {
    const e = await failure(ensureClientCertificate(agentOptions('n3', join(dir, 'n3'))));
    expect(e.message).toMatch(/no valid client certificate .* no bootstrap token/);
  });
});
