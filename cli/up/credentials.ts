// The cluster's credentials `skiff up` makes, in Kubernetes' static token file format: an admin
// token for the CLI (group system:masters, so RBAC lets it do everything) and one token per
// node agent (user system:node:<name>, group system:nodes), so every agent runs under the
// Node authorizer from its first call. Each agent gets its token alone in its own file (the
// agent's --token-file holds just the token). Tokens are kept across `up`s.
import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTokenFile } from '../../proto/api/token-file.js';
import type { Layout } from './layout.js';

export const ADMIN_USER = 'admin';
export const MASTERS_GROUP = 'system:masters';
export const NODES_GROUP = 'system:nodes';
export const nodeUser = (node: string): string => `system:node:${node}`;

/** The file holding node's bare token, given to its agent as --token-file. */
export const nodeTokenFile = (l: Layout, node: string): string => join(l.stateDir, `node-${node}.token`);

const newToken = (): string => randomBytes(24).toString('hex');

/** user -> token of an existing token file; a bare token (an older `skiff up`) is the admin's. */
export function parseTokenUsers(text: string): Map<string, string> {
  return new Map(parseTokenFile(text).map((l) => [l.user || ADMIN_USER, l.token]));
}

/** The token file's text: the admin line first, then one line per node. */
export function tokenFileText(admin: string, nodes: readonly { name: string; token: string }[]): string {
  const lines = [`${admin},${ADMIN_USER},${ADMIN_USER},"${MASTERS_GROUP}"`];
  for (const n of nodes) lines.push(`${n.token},${nodeUser(n.name)},${nodeUser(n.name)},"${NODES_GROUP}"`);
  return `${lines.join('\n')}\n`;
}

async function writeSecret(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}

/**
 * Writes the control plane's token file and each node's token file (mode 0600), keeping
 * tokens made before; returns the admin token the CLI config gets.
 */
export async function ensureCredentials(l: Layout, nodes: readonly string[]): Promise<string> {
  const known = parseTokenUsers(await readFile(l.tokenFile, 'utf8').catch(() => ''));
  const admin = known.get(ADMIN_USER) ?? newToken();
  const nodeTokens = nodes.map((name) => ({ name, token: known.get(nodeUser(name)) ?? newToken() }));
  await writeSecret(l.tokenFile, tokenFileText(admin, nodeTokens));
  for (const n of nodeTokens) await writeSecret(nodeTokenFile(l, n.name), `${n.token}\n`);
  return admin;
}
