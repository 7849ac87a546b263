// The kubelet's certificate store in --cert-dir: each issued client certificate and its key in
// one PEM file, kubelet-client-<timestamp>.pem (0600), and kubelet-client-current.pem, a
// symlink to the one in use, switched atomically (rename over it) so a crash never leaves the
// agent without a usable pair.
import { chmod, mkdir, readFile, readlink, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { certificateInfo, KUBELET_CLIENT_CURRENT, splitPemPair } from '../../proto/api/pki/index.js';

export const CURRENT_FILE = KUBELET_CLIENT_CURRENT;

export interface ClientPair {
  cert: string;
  key: string;
  notBefore: Date;
  notAfter: Date;
}


/** The pair in use, or undefined when there is none or it is unreadable or not valid at now. */
export async function loadCurrent(dir: string, now: Date): Promise<ClientPair | undefined> {
  let pem: string;
  try {
    pem = await readFile(join(dir, CURRENT_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const pair = splitPemPair(pem);
  if (!pair) return undefined;
  let info;
  try {
    info = certificateInfo(pair.cert);
  } catch {
    return undefined;
  }
  if (info.notAfter.getTime() <= now.getTime()) return undefined;
  return { ...pair, notBefore: info.notBefore, notAfter: info.notAfter };
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, '').replace('T', '-');
}

/** Writes a new pair and points kubelet-client-current.pem at it; returns the file's path. */
export async function storePair(dir: string, cert: string, key: string, now: Date): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // A second certificate within the same second gets a suffix: an older file is never overwritten.
  let name = `kubelet-client-${stamp(now)}.pem`;
  for (let i = 1; ; i++) {
    try {
      await writeFile(join(dir, name), `${cert.trimEnd()}\n${key.trimEnd()}\n`, { mode: 0o600, flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i > 100) throw e;
      name = `kubelet-client-${stamp(now)}-${i}.pem`;
    }
  }
  const path = join(dir, name);
  await chmod(path, 0o600);
  const tmp = join(dir, `.${CURRENT_FILE}.tmp`);
  await unlink(tmp).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
  await symlink(name, tmp);
  await rename(tmp, join(dir, CURRENT_FILE));
  return path;
}

/** The file kubelet-client-current.pem points at ('' when none). */
export async function currentTarget(dir: string): Promise<string> {
  try {
    return await readlink(join(dir, CURRENT_FILE));
  } catch {
    return '';
  }
}
