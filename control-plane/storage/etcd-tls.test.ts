// etcd over TLS with client certificates required (how `skiff up` runs it): the control plane's
// client (--etcd-cafile/--etcd-certfile/--etcd-keyfile) works; plaintext, no certificate and a
// certificate of another CA are refused. Dialling etcd by IP address sets no TLS server name
// (Node's DEP0123 warning, once per process: this file's process dials only 127.0.0.1).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueCertificate, type CertAndKey } from '../../proto/api/pki/index.js';
import { startEtcd, type EtcdServer } from '../../test/helpers/etcd.js';
import { newEtcdClient, type EtcdTls } from './etcd-client.js';

let dir: string;
let etcd: EtcdServer;
let ca: CertAndKey;
let client: CertAndKey;
const warnings: string[] = [];
const onWarning = (w: Error & { code?: string }): void => {
  warnings.push(`${w.code ?? ''} ${w.message}`);
};

beforeAll(async () => {
  process.on('warning', onWarning);
  dir = await mkdtemp(join(tmpdir(), 'skiff-etcd-tls-'));
  ca = await createCa('etcd-ca');
  const serving = await issueCertificate(ca, { subject: { commonName: 'etcd' }, usages: ['server', 'client'], hosts: ['127.0.0.1', 'localhost'] });
  client = await issueCertificate(ca, { subject: { commonName: 'kube-apiserver-etcd-client' }, usages: ['client'] });
  const f = { certFile: join(dir, 'etcd.crt'), keyFile: join(dir, 'etcd.key'), caFile: join(dir, 'ca.crt') };
  await writeFile(f.certFile, serving.cert);
  await writeFile(f.keyFile, serving.key, { mode: 0o600 });
  await writeFile(f.caFile, ca.cert);
  etcd = await startEtcd({ tls: { ...f, client: { ca: ca.cert, ...client } } });
}, 60_000);

afterAll(async () => {
  process.off('warning', onWarning);
  await etcd?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function put(endpoint: string, tls?: EtcdTls): Promise<string> {
  const c = newEtcdClient([endpoint], { dialTimeoutMs: 2000, tls });
  try {
    await c.put('/skiff-tls-test/k').value('v');
    return (await c.get('/skiff-tls-test/k').string()) ?? '';
  } finally {
    c.close();
  }
}

describe('etcd client TLS', () => {
  it('talks to etcd with the CA and a client certificate', async () => {
    expect(etcd.endpoint).toMatch(/^https:/);
    expect(await put(etcd.endpoint, { ca: ca.cert, cert: client.cert, key: client.key })).toBe('v');
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.includes('DEP0123') || w.includes('TLS ServerName'))).toEqual([]);
  });

  it('still checks etcd\'s certificate against the IP address dialled', async () => {
    // 127.0.0.2 is loopback too, but not in etcd's certificate (127.0.0.1, localhost).
    const port = Number(new URL(etcd.endpoint).port);
    const relay = createServer((c) => c.pipe(connect(port, '127.0.0.1')).pipe(c).on('error', () => c.destroy()));
    await new Promise<void>((r) => relay.listen(0, '127.0.0.2', r));
    try {
      const elsewhere = `https://127.0.0.2:${(relay.address() as AddressInfo).port}`;
      await expect(put(elsewhere, { ca: ca.cert, cert: client.cert, key: client.key })).rejects.toThrow(/altnames|does not match/i);
    } finally {
      await new Promise((r) => relay.close(r));
    }
  });

  it('is refused without a client certificate, with one of another CA, and in plaintext', async () => {
    await expect(put(etcd.endpoint, { ca: ca.cert })).rejects.toThrow();
    const other = await createCa('other');
    const stranger = await issueCertificate(other, { subject: { commonName: 'mallory' }, usages: ['client'] });
    await expect(put(etcd.endpoint, { ca: ca.cert, cert: stranger.cert, key: stranger.key })).rejects.toThrow();
    await expect(put(etcd.endpoint.replace('https:', 'http:'))).rejects.toThrow();
  });
});
