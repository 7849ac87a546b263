// The data of `skiff create configmap|secret`, read the way kubectl reads it: --from-literal
// K=V, --from-file [K=]PATH (a directory: each regular file in it), --from-env-file F
// (KEY=VALUE lines, # comments; a bare KEY takes the value from the environment). Keys must be
// valid config keys and appear once. Also the .dockerconfigjson of `create secret docker-registry`.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { errors } from '../proto/api/errors.js';

export interface DataSources {
  literals: readonly string[];
  files: readonly string[];
  envFiles: readonly string[];
}

const KEY = /^[-._a-zA-Z0-9]+$/;

function checkKey(k: string, from: string): void {
  if (!KEY.test(k) || k.length > 253 || k === '.' || k === '..' || k.startsWith('..')) {
    throw errors.badRequest(`${from}: "${k}" is not a valid key name: use letters, digits, '-', '_' or '.' (not '.', '..' or a leading '..')`);
  }
}

function add(out: Map<string, Buffer>, k: string, v: Buffer, from: string): void {
  checkKey(k, from);
  if (out.has(k)) throw errors.badRequest(`${from}: key "${k}" is given more than once`);
  out.set(k, v);
}

/** Parses KEY=VALUE env-file text (kubectl's rules: trims the key's leading space, keeps the value as is). */
export function parseEnvFile(text: string, source: string, env: NodeJS.ProcessEnv): [string, string][] {
  const out: [string, string][] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const l = raw.trimStart();
    if (!l || l.startsWith('#')) return;
    const eq = l.indexOf('=');
    const k = eq < 0 ? l.trimEnd() : l.slice(0, eq);
    if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(k)) throw errors.badRequest(`${source}:${i + 1}: "${k}" is not a valid environment variable name`);
    if (eq >= 0) out.push([k, l.slice(eq + 1)]);
    else if (env[k] !== undefined) out.push([k, env[k]]);
  });
  return out;
}

export async function readDataSources(s: DataSources, env: NodeJS.ProcessEnv): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const lit of s.literals) {
    const eq = lit.indexOf('=');
    if (eq <= 0) throw errors.badRequest(`--from-literal "${lit}": expected KEY=VALUE`);
    add(out, lit.slice(0, eq), Buffer.from(lit.slice(eq + 1)), `--from-literal ${lit.slice(0, eq)}`);
  }
  for (const spec of s.files) {
    const eq = spec.indexOf('=');
    const [key, path] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : ['', spec];
    const st = await stat(path).catch(() => undefined);
    if (!st) throw errors.badRequest(`--from-file ${path}: no such file or directory`);
    if (st.isDirectory()) {
      if (key) throw errors.badRequest(`--from-file ${spec}: a key cannot be given for a directory`);
      for (const e of (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (e.isFile()) add(out, e.name, await readFile(join(path, e.name)), `--from-file ${path}`);
      }
    } else add(out, key || basename(path), await readFile(path), `--from-file ${path}`);
  }
  for (const f of s.envFiles) {
    const text = await readFile(f, 'utf8').catch((e: unknown) => {
      throw errors.badRequest(`--from-env-file ${f}: ${e instanceof Error ? e.message : String(e)}`);
    });
    for (const [k, v] of parseEnvFile(text, f, env)) add(out, k, Buffer.from(v), `--from-env-file ${f}`);
  }
  return out;
}

/** Whether bytes are valid UTF-8 (a ConfigMap keeps them in data, else in binaryData). */
export function isUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

export interface DockerRegistryLogin {
  server: string;
  username: string;
  password: string;
  email?: string;
}

/** kubectl's .dockerconfigjson: {"auths": {server: {username, password, email, auth}}}. */
export function dockerConfigJson(l: DockerRegistryLogin): string {
  const entry: Record<string, string> = { username: l.username, password: l.password };
  if (l.email) entry.email = l.email;
  entry.auth = Buffer.from(`${l.username}:${l.password}`).toString('base64');
  return JSON.stringify({ auths: { [l.server]: entry } });
}
