// Bearer-token authentication: --token-file holds one token per line, optionally
// "token,user" (like Kubernetes' static token file); every call must carry
// "authorization: Bearer <token>". No token file means authentication is off.
import { readFile } from 'node:fs/promises';
import type { Metadata } from '@grpc/grpc-js';
import { errors } from '../../proto/api/errors.js';

/** token -> user name. */
export type Tokens = ReadonlyMap<string, string>;

export function parseTokens(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [token = '', user = ''] = line.split(',').map((s) => s.trim());
    if (token) out.set(token, user || 'token-user');
  }
  return out;
}

export async function loadTokens(file: string): Promise<Map<string, string>> {
  const tokens = parseTokens(await readFile(file, 'utf8'));
  if (tokens.size === 0) throw new Error(`token file ${file} holds no tokens`);
  return tokens;
}

/** The caller's user name; Unauthorized when tokens are on and the call has no valid one. */
export function authenticate(metadata: Metadata, tokens: Tokens | undefined): string {
  if (!tokens) return 'anonymous';
  const header = metadata.get('authorization')[0];
  return authenticateHeader(typeof header === 'string' ? header : undefined, tokens);
}

/** The same check over an HTTP Authorization header (the REST gateway). */
export function authenticateHeader(header: string | undefined, tokens: Tokens | undefined): string {
  if (!tokens) return 'anonymous';
  if (!header) {
    throw errors.unauthorized('this control plane requires a bearer token: send "authorization: Bearer <token>"');
  }
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  const user = m ? tokens.get(m[1]!) : undefined;
  if (!user) throw errors.unauthorized('the bearer token is not valid');
  return user;
}
