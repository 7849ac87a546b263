// The control plane's serving certificate, one for the gRPC API and the REST API: from
// --tls-cert-file/--tls-private-key-file, or else a self-signed one (its own CA) kept in
// --cert-dir (made on the first start, reused after: clients trust apiserver.crt), or made in
// memory when neither is given. Its names are the listen hosts, this machine's host name and,
// for a wildcard listener, every address of this machine.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { certificateInfo, createSelfSignedServing } from '../../proto/api/pki/index.js';

export interface TlsFiles {
  cert: string;
  key: string;
}

export const SERVING_CERT_FILE = 'apiserver.crt';
export const SERVING_KEY_FILE = 'apiserver.key';

/** The names a serving certificate must cover for listeners on these hosts. */
export function servingHosts(listenHosts: readonly string[]): string[] {
  const out = new Set(['localhost', '127.0.0.1', '::1', hostname()]);
  for (const raw of listenHosts) {
    const h = raw.replace(/^\[|\]$/g, '');
    if (h === '0.0.0.0' || h === '::' || h === '') {
      for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) out.add(a.address.replace(/%.*$/, ''));
    } else out.add(h);
  }
  return [...out];
}

/** A self-signed certificate (its own CA) for these host names and IP addresses. */
export function selfSignedCertificate(hosts: readonly string[]): Promise<TlsFiles> {
  return createSelfSignedServing('skiff-control-plane', servingHosts(hosts));
}

/**
 * The certificate in dir, made there first when missing or when it does not cover a listen host
 * given by address (a new certificate is a new CA for clients, so a wildcard listener's changing
 * interface addresses do not trigger one).
 */
export async function certificateIn(dir: string, hosts: readonly string[]): Promise<TlsFiles> {
  const want = servingHosts(hosts);
  const explicit = hosts.map((h) => h.replace(/^\[|\]$/g, '')).filter((h) => h && h !== '0.0.0.0' && h !== '::');
  try {
    const found = { cert: await readFile(join(dir, SERVING_CERT_FILE), 'utf8'), key: await readFile(join(dir, SERVING_KEY_FILE), 'utf8') };
    const have = new Set(certificateInfo(found.cert).hosts);
    if (explicit.every((h) => have.has(h))) return found;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const made = await createSelfSignedServing('skiff-control-plane', want);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, SERVING_KEY_FILE), made.key, { mode: 0o600 });
  await writeFile(join(dir, SERVING_CERT_FILE), made.cert, { mode: 0o644 });
  return made;
}

export interface ServingOptions {
  certFile: string;
  keyFile: string;
  certDir: string;
  /** Hosts of the listeners. */
  hosts: readonly string[];
}

export async function servingCertificate(o: ServingOptions): Promise<TlsFiles> {
  if (o.certFile) return { cert: await readFile(o.certFile, 'utf8'), key: await readFile(o.keyFile, 'utf8') };
  return o.certDir ? certificateIn(o.certDir, o.hosts) : selfSignedCertificate(o.hosts);
}
