// The control plane serves TLS only: plaintext and clients that do not trust its CA are refused
// on the gRPC and the REST port; client certificates of the --client-ca-file CA authenticate
// as CN/O, others are refused.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { credentials, Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromGrpcError } from '../../proto/api/errors.js';
import { ApiClient, type VersionInfo } from '../../proto/gen/skiff/v1/api.js';
import { createCa, issueCertificate } from '../../proto/api/pki/index.js';
import { grpcCredentials } from '../../proto/api/tls-client.js';
import { testStore, type TestStore } from '../../test/helpers/etcd-client.js';
import { TEST_CA, testClientCertificate } from '../../test/helpers/tls.js';
import { parseTokens } from './auth.js';
import { ClientCertAuthenticator } from './client-cert.js';
import { startTestServer, type TestServer } from './testing.js';

let ts: TestStore;
let srv: TestServer;
const TOKEN = 'tls-test-token';

beforeAll(async () => {
  ts = testStore();
  srv = await startTestServer(ts.store, { tokens: parseTokens(`${TOKEN},tester,tester,"system:masters"`), clientCa: TEST_CA.cert, restListen: '127.0.0.1:0' });
});

afterAll(async () => {
  await srv?.stop();
  await ts?.close();
});

function version(client: ApiClient, token = ''): Promise<VersionInfo> {
  const md = new Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) => {
    client.version({}, md, { deadline: Date.now() + 5000 }, (e, r) => {
      client.close();
      return e ? reject(fromGrpcError(e)) : resolve(r);
    });
  });
}

const address = (): string => `127.0.0.1:${srv.server.port}`;

function https(opts: { ca: string; cert?: string; key?: string; token?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: '127.0.0.1', port: srv.server.restPort, path: '/api/v1/namespaces', ca: opts.ca, cert: opts.cert, key: opts.key,
      headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
    }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('gRPC API over TLS', () => {
  it('answers a client that trusts the cluster CA', async () => {
    const v = await version(new ApiClient(address(), grpcCredentials(address(), { ca: TEST_CA.cert })), TOKEN);
    expect(v.version).not.toBe('');
  });

  it('refuses a plaintext client', async () => {
    await expect(version(new ApiClient(address(), credentials.createInsecure()), TOKEN)).rejects.toMatchObject({ code: 'Unavailable' });
  });

  it('is refused by a client that trusts another CA', async () => {
    const other = await createCa('not-the-cluster-ca');
    await expect(version(new ApiClient(address(), grpcCredentials(address(), { ca: other.cert })), TOKEN))
      .rejects.toThrow(/verify|certificate/i);
  });

  it('authenticates a client certificate of the client CA without a token, and refuses one of another CA', async () => {
    const mine = await testClientCertificate('alice', ['dev']);
    const v = await version(new ApiClient(address(), grpcCredentials(address(), { ca: TEST_CA.cert, ...mine })));
    expect(v.version).not.toBe('');
    const foreign = await issueCertificate(await createCa('skiff-test-ca'), { subject: { commonName: 'mallory', organizations: ['system:masters'] }, usages: ['client'] });
    // grpc-js shows a handler only certificates the handshake verified against the client CA, so
    // a foreign one counts as no certificate at all: it names no one, and without a token the
    // call is refused.
    await expect(version(new ApiClient(address(), grpcCredentials(address(), { ca: TEST_CA.cert, ...foreign }))))
      .rejects.toMatchObject({ code: 'Unauthorized' });
  });

  it('still asks callers without a certificate for a token', async () => {
    await expect(version(new ApiClient(address(), grpcCredentials(address(), { ca: TEST_CA.cert }))))
      .rejects.toMatchObject({ code: 'Unauthorized' });
  });
});

describe('REST API over TLS', () => {
  it('answers HTTPS with the same certificate, a token or a client certificate', async () => {
    expect(await https({ ca: TEST_CA.cert, token: TOKEN })).toBe(200);
    expect(await https({ ca: TEST_CA.cert, ...(await testClientCertificate('bob', ['system:masters'])) })).toBe(200);
    // A certificate's identity is authorized like any other: no role, no namespaces.
    expect(await https({ ca: TEST_CA.cert, ...(await testClientCertificate('carol')) })).toBe(403);
    expect(await https({ ca: TEST_CA.cert })).toBe(401);
    const foreign = await issueCertificate(await createCa('skiff-test-ca'), { subject: { commonName: 'mallory' }, usages: ['client'] });
    expect(await https({ ca: TEST_CA.cert, ...foreign })).toBe(401);
  });

  it('refuses plain HTTP and clients that trust another CA', async () => {
    const plain = new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: srv.server.restPort, path: '/api/v1/namespaces', headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    // A TLS server answers a plaintext request with nothing a client can read as HTTP success.
    await expect(plain.then((code) => (code === 200 ? 'answered' : 'refused'), () => 'refused')).resolves.toBe('refused');
    const other = await createCa('not-the-cluster-ca');
    await expect(https({ ca: other.cert, token: TOKEN })).rejects.toThrow(/certificate/i);
  });
});

describe('ClientCertAuthenticator', () => {
  it('maps CN to the user and every O to a group, plus system:authenticated', async () => {
    const a = new ClientCertAuthenticator(TEST_CA.cert);
    const { cert } = await testClientCertificate('system:node:n1', ['system:nodes', 'extra']);
    const { X509Certificate } = await import('node:crypto');
    const x = new X509Certificate(cert);
    const peer = { raw: x.raw, subject: { CN: 'system:node:n1', O: ['system:nodes', 'extra'] } } as unknown as import('node:tls').PeerCertificate;
    expect(a.identify(peer)).toEqual({ name: 'system:node:n1', groups: ['system:nodes', 'extra', 'system:authenticated'] });
  });

  it('refuses an expired certificate and a server-only one', async () => {
    const { X509Certificate } = await import('node:crypto');
    const later = new ClientCertAuthenticator(TEST_CA.cert, () => new Date(Date.now() + 2 * 3600_000));
    const short = await issueCertificate(TEST_CA, { subject: { commonName: 'brief' }, usages: ['client'], durationMs: 3600_000 });
    const peer = (pem: string, cn: string) => ({ raw: new X509Certificate(pem).raw, subject: { CN: cn } }) as unknown as import('node:tls').PeerCertificate;
    expect(() => later.identify(peer(short.cert, 'brief'))).toThrow(/not valid now/);
    const serving = await issueCertificate(TEST_CA, { subject: { commonName: 'web' }, usages: ['server'] });
    expect(() => new ClientCertAuthenticator(TEST_CA.cert).identify(peer(serving.cert, 'web'))).toThrow(/clientAuth/);
  });
});
