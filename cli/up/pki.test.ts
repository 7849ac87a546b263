// skiff up's PKI: files 0600 in a 0700 directory, reused by a re-run, the serving certificate
// re-issued when the control plane gains an address; etcd run with these files (as skiff up
// runs it) serves the control plane's client certificate and refuses plaintext and strangers.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { certificateInfo, createCa, issueCertificate, signedBy } from '../../proto/api/pki/index.js';
import { newEtcdClient, type EtcdTls } from '../../control-plane/storage/etcd-client.js';
import { startEtcd, type EtcdServer } from '../../test/helpers/etcd.js';
import { layout } from './layout.js';
import { ADMIN_GROUP, ADMIN_USER, ensureAgentServing, ensurePki, etcdClientTls } from './pki.js';

const dirs: string[] = [];
let etcd: EtcdServer | undefined;
afterAll(async () => {
  await etcd?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function stateDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'skiff-up-pki-'));
  dirs.push(d);
  return d;
}

describe('skiff up PKI', () => {
  it('makes the CA and certificates once (0600), reuses them, and re-issues the serving certificate for a new address', async () => {
    const l = layout(await stateDir());
    const f = await ensurePki(l, ['127.0.0.1']);
    expect((await stat(f.dir)).mode & 0o777).toBe(0o700);
    for (const file of [f.caCert, f.caKey, f.servingCert, f.servingKey, f.adminCert, f.adminKey, f.etcdCert, f.etcdKey, f.etcdClientCert, f.etcdClientKey]) {
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    }
    const ca = await readFile(f.caCert, 'utf8');
    const caKey = await readFile(f.caKey, 'utf8');
    const serving = await readFile(f.servingCert, 'utf8');
    const admin = await readFile(f.adminCert, 'utf8');
    expect(await signedBy(serving, ca)).toBe(true);
    expect(certificateInfo(admin).subject).toEqual({ commonName: ADMIN_USER, organizations: [ADMIN_GROUP] });

    await ensurePki(l, ['127.0.0.1']);
    expect(await readFile(f.servingCert, 'utf8')).toBe(serving);
    expect(await readFile(f.adminCert, 'utf8')).toBe(admin);

    await ensurePki(l, ['172.18.14.1']);
    const again = await readFile(f.servingCert, 'utf8');
    expect(again).not.toBe(serving);
    expect(certificateInfo(again).hosts).toContain('172.18.14.1');
    expect(await readFile(f.caCert, 'utf8')).toBe(ca);
    expect(await readFile(f.caKey, 'utf8')).toBe(caKey);
    expect(await readFile(f.adminCert, 'utf8')).toBe(admin);

    const agent = await ensureAgentServing(l, 'n1', ['127.0.0.1']);
    const agentCert = await readFile(agent.cert, 'utf8');
    expect(await signedBy(agentCert, ca)).toBe(true);
    expect(certificateInfo(agentCert).hosts).toEqual(expect.arrayContaining(['127.0.0.1', 'n1']) as unknown);
    expect((await stat(agent.key)).mode & 0o777).toBe(0o600);
    await ensureAgentServing(l, 'n1', ['127.0.0.1']);
    expect(await readFile(agent.cert, 'utf8')).toBe(agentCert);
  });

  it('runs etcd with TLS that takes the control plane\'s certificate and refuses plaintext and other CAs', async () => {
    const f = await ensurePki(layout(await stateDir()), ['127.0.0.1']);
    const client = await etcdClientTls(f);
    etcd = await startEtcd({ tls: { certFile: f.etcdCert, keyFile: f.etcdKey, caFile: f.caCert, client } });
    const put = async (endpoint: string, tls?: EtcdTls): Promise<void> => {
      const c = newEtcdClient([endpoint], { dialTimeoutMs: 2000, tls });
      try {
        await c.put('/skiff-up-pki/k').value('v');
      } finally {
        c.close();
      }
    };
    await put(etcd.endpoint, client);
    await expect(put(etcd.endpoint.replace('https:', 'http:'))).rejects.toThrow();
    const stranger = await issueCertificate(await createCa('skiff-ca'), { subject: { commonName: 'kube-apiserver-etcd-client' }, usages: ['client'] });
    await expect(put(etcd.endpoint, { ca: client.ca, ...stranger })).rejects.toThrow();
  }, 60_000);
});
