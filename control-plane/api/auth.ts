// Bearer-token authentication: --token-file is Kubernetes' static token file, one
// `token,user[,uid[,"group1,group2"]]` per line (a bare token is user "token-user"); every call
// must carry "authorization: Bearer <token>". No token file means authentication is off.
// Other authenticators (client certificates, bootstrap tokens) produce the same Identity, which
// authorization reads.
import { readFile } from 'node:fs/promises';
import type { Metadata } from '@grpc/grpc-js';
import { errors } from '../../proto/api/errors.js';
import { parseTokenFile } from '../../proto/api/token-file.js';

/** Who is calling: a user name and the groups it belongs to (Kubernetes' user.Info). */
export interface Identity {
  name: string;
  groups: readonly string[];
}

/** The caller when authentication is off. */
export const ANONYMOUS: Identity = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

/** Every authenticated caller is in this group, as in Kubernetes. */
export const AUTHENTICATED_GROUP = 'system:authenticated';

/** token -> identity. */
export type Tokens = ReadonlyMap<string, Identity>;

export function parseTokens(text: string): Map<string, Identity> {
  const out = new Map<string, Identity>();
  for (const l of parseTokenFile(text)) out.set(l.token, { name: l.user || 'token-user', groups: [...l.groups, AUTHENTICATED_GROUP] });
  return out;
}

export async function loadTokens(file: string): Promise<Map<string, Identity>> {
  const tokens = parseTokens(await readFile(file, 'utf8'));
  if (tokens.size === 0) throw new Error(`token file ${file} holds no tokens`);
  return tokens;
}

/** The caller; Unauthorized when tokens are on and the call has no valid one. */
export function authenticate(metadata: Metadata, tokens: Tokens | undefined): Identity {
  if (!tokens) return ANONYMOUS;
  const header = metadata.get('authorization')[0];
  return authenticateHeader(typeof header === 'string' ? header : undefined, tokens);
}

/** The same check over an HTTP Authorization header (the REST gateway). */
export function authenticateHeader(header: string | undefined, tokens: Tokens | undefined): Identity {
  if (!tokens) return ANONYMOUS;
  if (!header) {
    throw errors.unauthorized('this control plane requires a bearer token: send "authorization: Bearer <token>"');
  }
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  const who = m ? tokens.get(m[1]!) : undefined;
  if (!who) throw errors.unauthorized('the bearer token is not valid');
  return who;
}
