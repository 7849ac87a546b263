// The bootstrap token `skiff up` starts agents with: made through the API (as `skiff token
// create`) once the control plane runs, with a short TTL, and written 0600 to the state dir.
// An agent needs it only until it holds a certificate; restarts reuse the certificate, and the
// control plane's token cleaner deletes the token when it expires.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { generateBootstrapToken } from '../../proto/api/bootstrap-token.js';
import { KUBELET_CLIENT_CURRENT, signedBy, splitPemPair } from '../../proto/api/pki/index.js';
import { wrap } from '../../proto/api/kinds.js';
import type { Api } from '../client.js';
import { tokenSecret } from '../commands/token.js';
import { bootstrapTokenFile, writeSecret } from './credentials.js';
import type { Layout } from './layout.js';

/** Long enough for every agent of one `up` to join. */
export const JOIN_TOKEN_TTL = '30m';

export async function createJoinToken(api: Api, l: Layout, now = new Date()): Promise<string> {
  const t = generateBootstrapToken();
  await api.create({ object: wrap('Secret', tokenSecret(t.id, t.secret, { ttl: JOIN_TOKEN_TTL, description: 'skiff up: node agents joining' }, now)), dryRun: false });
  await writeSecret(bootstrapTokenFile(l), `${t.token}\n`);
  return t.id;
}

/**
 * After the CA changed (README: rotating the CA), an agent's stored client certificate is the
 * old CA's and would be refused: its current-link is removed so the agent joins again with the
 * bootstrap token. Certificates of this CA are left alone.
 */
export async function forgetForeignCertificates(certDir: string, caPem: string): Promise<boolean> {
  const current = join(certDir, KUBELET_CLIENT_CURRENT);
  let pem: string;
  try {
    pem = await readFile(current, 'utf8');
  } catch {
    return false;
  }
  const pair = splitPemPair(pem);
  if (pair && await signedBy(pair.cert, caPem).catch(() => false)) return false;
  await rm(current, { force: true });
  return true;
}
