// The cluster's PKI that `skiff up` keeps under <state>/pki (directory 0700, files 0600): the
// cluster CA (its key never leaves this directory), the control plane's serving certificate
// for every address it is reached at, and an admin client certificate for the CLI
// (CN kubernetes-admin, O system:masters, as kubeadm's admin.conf). Re-runs reuse every file;
// the serving certificate is re-issued only when an address it must cover is missing from it.
import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { certificateInfo, createCa, issueCertificate, KUBELET_CLIENT_USER, loadCa, type Ca, type CertAndKey } from '../../proto/api/pki/index.js';
import type { ClientTls } from '../../proto/api/tls-client.js';
import type { Layout } from './layout.js';

export const ADMIN_USER = 'kubernetes-admin';
export const ADMIN_GROUP = 'system:masters';

export interface PkiFiles {
  dir: string;
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  /** etcd's serving (and peer) certificate, and the control plane's client certificate for it. */
  etcdCert: string;
  etcdKey: string;
  etcdClientCert: string;
  etcdClientKey: string;
  /** The control plane's client certificate for the agents (CN kube-apiserver-kubelet-client). */
  kubeletClientCert: string;
  kubeletClientKey: string;
}

export function pkiFiles(l: Layout): PkiFiles {
  const dir = join(l.stateDir, 'pki');
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    servingCert: join(dir, 'apiserver.crt'),
    servingKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    etcdCert: join(dir, 'etcd-server.crt'),
    etcdKey: join(dir, 'etcd-server.key'),
    etcdClientCert: join(dir, 'apiserver-etcd-client.crt'),
    etcdClientKey: join(dir, 'apiserver-etcd-client.key'),
    kubeletClientCert: join(dir, 'apiserver-kubelet-client.crt'),
    kubeletClientKey: join(dir, 'apiserver-kubelet-client.key'),
  };
}

async function readPair(cert: string, key: string): Promise<CertAndKey | undefined> {
  try {
    return { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function writePair(cert: string, key: string, pair: CertAndKey): Promise<void> {
  await writeFile(key, pair.key, { mode: 0o600 });
  await writeFile(cert, pair.cert, { mode: 0o600 });
  await chmod(key, 0o600);
  await chmod(cert, 0o600);
}

/** The certificate at these paths, issued (again) when missing, expired or failing `keep`. */
async function ensurePair(cert: string, key: string, issue: () => Promise<CertAndKey>, keep: (c: CertAndKey) => boolean = () => true): Promise<{ pair: CertAndKey; fresh: boolean }> {
  const found = await readPair(cert, key);
  if (found && certificateInfo(found.cert).notAfter.getTime() > Date.now() && keep(found)) return { pair: found, fresh: false };
  const made = await issue();
  await writePair(cert, key, made);
  return { pair: made, fresh: true };
}

/** Makes (or reuses) the CA and the certificates; hosts are the control plane's addresses. */
export async function ensurePki(l: Layout, hosts: readonly string[]): Promise<PkiFiles> {
  const f = pkiFiles(l);
  await mkdir(f.dir, { recursive: true, mode: 0o700 });
  await chmod(f.dir, 0o700);
  const { pair: caPair, fresh: newCa } = await ensurePair(f.caCert, f.caKey, () => createCa('skiff-ca'));
  let ca: Ca | undefined;
  const loaded = async (): Promise<Ca> => (ca ??= await loadCa(caPair));
  // A new CA (first run, or the old one expired) re-issues everything it signs.
  const names = [...new Set(['127.0.0.1', 'localhost', hostname(), ...hosts])];
  await ensurePair(f.servingCert, f.servingKey,
    async () => issueCertificate(await loaded(), { subject: { commonName: 'kube-apiserver' }, usages: ['server'], hosts: names, durationMs: 365 * 24 * 3600_000 }),
    (c) => {
      const have = new Set(certificateInfo(c.cert).hosts);
      return !newCa && names.every((h) => have.has(h));
    });
  await ensurePair(f.adminCert, f.adminKey,
    async () => issueCertificate(await loaded(), { subject: { commonName: ADMIN_USER, organizations: [ADMIN_GROUP] }, usages: ['client'], durationMs: 365 * 24 * 3600_000 }),
    () => !newCa);
  // etcd listens on loopback only; its certificate also serves as its peer client certificate.
  await ensurePair(f.etcdCert, f.etcdKey,
    async () => issueCertificate(await loaded(), { subject: { commonName: 'etcd' }, usages: ['server', 'client'], hosts: ['127.0.0.1', 'localhost'], durationMs: 365 * 24 * 3600_000 }),
    () => !newCa);
  await ensurePair(f.etcdClientCert, f.etcdClientKey,
    async () => issueCertificate(await loaded(), { subject: { commonName: 'kube-apiserver-etcd-client' }, usages: ['client'], durationMs: 365 * 24 * 3600_000 }),
    () => !newCa);
  await ensurePair(f.kubeletClientCert, f.kubeletClientKey,
    async () => issueCertificate(await loaded(), { subject: { commonName: KUBELET_CLIENT_USER }, usages: ['client'], durationMs: 365 * 24 * 3600_000 }),
    () => !newCa);
  return f;
}

/** An agent's NodeAgent serving certificate, for the address the control plane dials. */
export function agentServingFiles(l: Layout, node: string): { cert: string; key: string } {
  const dir = pkiFiles(l).dir;
  return { cert: join(dir, `kubelet-${node}.crt`), key: join(dir, `kubelet-${node}.key`) };
}

/** Makes (or reuses) the serving certificate of node's agent, valid for its addresses. */
export async function ensureAgentServing(l: Layout, node: string, addresses: readonly string[]): Promise<{ cert: string; key: string }> {
  const f = pkiFiles(l);
  const out = agentServingFiles(l, node);
  const caPair = { cert: await readFile(f.caCert, 'utf8'), key: await readFile(f.caKey, 'utf8') };
  const names = [...new Set([...addresses, node])];
  await ensurePair(out.cert, out.key,
    async () => issueCertificate(caPair, { subject: { commonName: `system:node:${node}`, organizations: ['system:nodes'] }, usages: ['server'], hosts: names, durationMs: 365 * 24 * 3600_000 }),
    (c) => {
      const have = new Set(certificateInfo(c.cert).hosts);
      return names.every((h) => have.has(h)) && new X509Certificate(c.cert).verify(new X509Certificate(caPair.cert).publicKey);
    });
  return out;
}

/** What `skiff up`'s health check of etcd presents (the control plane's etcd client certificate). */
export async function etcdClientTls(f: PkiFiles): Promise<{ ca: string; cert: string; key: string }> {
  return { ca: await readFile(f.caCert, 'utf8'), cert: await readFile(f.etcdClientCert, 'utf8'), key: await readFile(f.etcdClientKey, 'utf8') };
}

/** What the CLI's own connections during `skiff up` use. */
export async function upClientTls(l: Layout): Promise<ClientTls> {
  return { ca: await readFile(pkiFiles(l).caCert, 'utf8').catch(() => '') };
}
