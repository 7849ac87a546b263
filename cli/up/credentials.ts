// The cluster's credentials `skiff up` makes, in Kubernetes' static token file format: an admin
// token for the CLI (group system:masters, so RBAC lets it do everything). Node agents have no
// line here: they join with a short-lived bootstrap token (bootstrapTokenFile, made through the
// API once the control plane runs) and from then on use their own client certificate
// (system:node:<name> in system:nodes), so every agent runs under the Node authorizer. The
// admin token is kept across `up`s.
import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTokenFile } from '../../proto/api/token-file.js';
import type { Layout } from './layout.js';

export const ADMIN_USER = 'admin';
export const MASTERS_GROUP = 'system:masters';
export const NODES_GROUP = 'system:nodes';
export const nodeUser = (node: string): string => `system:node:${node}`;

/** The bootstrap token agents join with (--bootstrap-token-file), rewritten by every `up`. */
export const bootstrapTokenFile = (l: Layout): string => join(l.stateDir, 'bootstrap.token');

const newToken = (): string => randomBytes(24).toString('hex');

/** user -> token of an existing token file; a bare token (an older `skiff up`) is the admin's. */
export function parseTokenUsers(text: string): Map<string, string> {
  return new Map(parseTokenFile(text).map((l) => [l.user || ADMIN_USER, l.token]));
}

/** The token file's text: the admin line first, then one line per node given a token (tests). */
export function tokenFileText(admin: string, nodes: readonly { name: string; token: string }[] = []): string {
  const lines = [`${admin},${ADMIN_USER},${ADMIN_USER},"${MASTERS_GROUP}"`];
  for (const n of nodes) lines.push(`${n.token},${nodeUser(n.name)},${nodeUser(n.name)},"${NODES_GROUP}"`);
  return `${lines.join('\n')}\n`;
}

export async function writeSecret(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}

/**
 * Writes the control plane's token file (mode 0600), keeping the admin token made before (node
 * lines of an older `up` are dropped: nodes hold certificates now); returns the admin token.
 */
export async function ensureCredentials(l: Layout): Promise<string> {
  const known = parseTokenUsers(await readFile(l.tokenFile, 'utf8').catch(() => ''));
  const admin = known.get(ADMIN_USER) ?? newToken();
  await writeSecret(l.tokenFile, tokenFileText(admin));
  return admin;
}
