// The REST API's serving certificate. kubectl sends a kubeconfig's token only over TLS, so the
// gateway always serves HTTPS: from --tls-cert-file/--tls-private-key-file, or from a
// self-signed certificate kept in --rest-tls-dir (made on the first start, reused after; its
// certificate is the CA a kubeconfig names), or made in memory when neither is given.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface TlsFiles {
  cert: string;
  key: string;
}

export const REST_CERT_FILE = 'rest.crt';
export const REST_KEY_FILE = 'rest.key';

/** A self-signed certificate (its own CA) for these host names and IP addresses. */
export async function selfSignedCertificate(hosts: readonly string[]): Promise<TlsFiles> {
  const names = [...new Set(['localhost', '127.0.0.1', ...hosts.filter(Boolean)])];
  const now = new Date();
  const res = await generate([{ name: 'commonName', value: 'skiff-control-plane' }], {
    keyType: 'ec',
    curve: 'P-256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + 10 * 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
    ],
  });
  return { cert: res.cert, key: res.private };
}

/** The certificate in dir, made there first when missing. */
export async function certificateIn(dir: string, hosts: readonly string[]): Promise<TlsFiles> {
  try {
    return { cert: await readFile(join(dir, REST_CERT_FILE), 'utf8'), key: await readFile(join(dir, REST_KEY_FILE), 'utf8') };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const made = await selfSignedCertificate(hosts);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, REST_KEY_FILE), made.key, { mode: 0o600 });
  await writeFile(join(dir, REST_CERT_FILE), made.cert, { mode: 0o644 });
  return made;
}
