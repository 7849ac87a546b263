import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createCa, issueCertificate, loadCa, signCertificate } from './certificates.js';
import { createCsr, parseCsr } from './csr.js';
import { certificateInfo, signedBy } from './inspect.js';
import { importKeyPair } from './keys.js';

/** One TLS handshake against a real server; resolves with the server's view of the client cert subject, or rejects. */
async function handshake(server: { cert: string; key: string; ca?: string }, client: { ca: string; cert?: string; key?: string; servername?: string }): Promise<string> {
  const srv = createServer({ cert: server.cert, key: server.key, ca: server.ca, requestCert: Boolean(server.ca), rejectUnauthorized: Boolean(server.ca) }, (s: TLSSocket) => {
    const peer = s.getPeerCertificate();
    s.end(peer.subject ? String(peer.subject.CN) : '-');
  });
  srv.on('tlsClientError', () => undefined);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  try {
    const sock = connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, ca: client.ca, cert: client.cert, key: client.key, servername: client.servername });
    let data = '';
    sock.on('data', (d: Buffer) => (data += d.toString()));
    await new Promise<void>((resolve, reject) => {
      sock.on('error', reject);
      // TLS 1.3: the client finishes its handshake before the server checks its certificate, so a
      // refusal shows as a connection closed without an answer.
      sock.on('close', () => (data ? resolve() : reject(new Error('closed without an answer'))));
    });
    return data;
  } finally {
    srv.close();
  }
}

describe('cluster PKI', () => {
  it('issues a serving certificate a TLS client verifies against the CA, for an IP and a name', async () => {
    const ca = await createCa('skiff-ca');
    const serving = await issueCertificate(ca, { subject: { commonName: 'kube-apiserver' }, usages: ['server'], hosts: ['127.0.0.1', 'cp.example'] });
    expect(await handshake(serving, { ca: ca.cert })).toBe('-');
    expect(await handshake(serving, { ca: ca.cert, servername: 'cp.example' })).toBe('-');
    await expect(handshake(serving, { ca: ca.cert, servername: 'other.example' })).rejects.toThrow(/altnames|Hostname/i);
    const info = certificateInfo(serving.cert);
    expect(info.hosts).toEqual(['127.0.0.1', 'cp.example']);
    expect(info.isCa).toBe(false);
    expect(certificateInfo(ca.cert).isCa).toBe(true);
  });

  it('a certificate from another CA is refused on both sides', async () => {
    const ca = await createCa('skiff-ca');
    const other = await createCa('skiff-ca');
    const serving = await issueCertificate(ca, { subject: { commonName: 's' }, usages: ['server'], hosts: ['127.0.0.1'] });
    await expect(handshake(serving, { ca: other.cert })).rejects.toThrow(/self.signed|unable to verify|signature/i);
    const stranger = await issueCertificate(other, { subject: { commonName: 'mallory' }, usages: ['client'] });
    await expect(handshake({ ...serving, ca: ca.cert }, { ca: ca.cert, ...stranger })).rejects.toThrow();
    const friend = await issueCertificate(ca, { subject: { commonName: 'system:node:n1', organizations: ['system:nodes'] }, usages: ['client'] });
    expect(await handshake({ ...serving, ca: ca.cert }, { ca: ca.cert, ...friend })).toBe('system:node:n1');
    expect(await signedBy(friend.cert, ca.cert)).toBe(true);
    expect(await signedBy(stranger.cert, ca.cert)).toBe(false);
  });

  it('carries CN and every O value as the identity, and the requested lifetime', async () => {
    const ca = await createCa('skiff-ca');
    const now = new Date('2026-01-01T00:00:00Z');
    const c = await issueCertificate(ca, { subject: { commonName: 'alice', organizations: ['dev', 'system:masters'] }, usages: ['client'], durationMs: 3600_000, now });
    const info = certificateInfo(c.cert);
    expect(info.subject).toEqual({ commonName: 'alice', organizations: ['dev', 'system:masters'] });
    expect(info.issuer.commonName).toBe('skiff-ca');
    expect(info.notAfter.toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(await signedBy(c.cert, ca.cert, new Date('2026-01-01T02:00:00Z'))).toBe(false);
  });

  it('makes and parses a CSR, and signs its key', async () => {
    const ca = await loadCa(await createCa('skiff-ca'));
    const { csr, key } = await createCsr({ commonName: 'system:node:n1', organizations: ['system:nodes'] });
    const parsed = await parseCsr(csr);
    expect(parsed.subject).toEqual({ commonName: 'system:node:n1', organizations: ['system:nodes'] });
    expect(parsed.keyAlgorithm).toBe('ECDSA P-256');
    const cert = await signCertificate(ca, parsed.publicKey, { subject: parsed.subject, usages: ['client'] });
    expect(certificateInfo(cert).subject.commonName).toBe('system:node:n1');
    // the key the agent kept matches the certificate: a TLS client can use the pair
    const serving = await issueCertificate(ca, { subject: { commonName: 's' }, usages: ['server'], hosts: ['127.0.0.1'] });
    expect(await handshake({ ...serving, ca: ca.certPem }, { ca: ca.certPem, cert, key })).toBe('system:node:n1');
    // the same key makes a renewal CSR
    expect((await createCsr({ commonName: 'system:node:n1' }, key)).key).toBe((await importKeyPair(key)).privateKeyPem);
  });

  it('refuses a CSR that is not one or whose signature is broken', async () => {
    await expect(parseCsr('hello')).rejects.toThrow(/not a PEM certificate request/);
    const { csr } = await createCsr({ commonName: 'x' });
    const b64 = csr.replace(/-----[^-]+-----|\s/g, '');
    const der = Buffer.from(b64, 'base64');
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0xff; // inside the signature
    const broken = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(parseCsr(broken)).rejects.toThrow();
  });
});
