// Where the CLI connects and as whom: ~/.skiff/config.yaml ({server, token, namespace}, mode
// 0600 because it holds a bearer token), overridden by SKIFF_SERVER/SKIFF_TOKEN, overridden by
// the --server/--token/-n flags. SKIFF_CONFIG points at another file (tests, several clusters).
// Several control planes: `servers:` (a list) in the file, or a comma list in --server or
// SKIFF_SERVER; the CLI uses one and moves to another when it fails (proto/api/endpoints.ts).
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ApiError } from '../proto/api/errors.js';
import type { ClientTls } from '../proto/api/tls-client.js';

export const DEFAULT_SERVER = '127.0.0.1:6443';
export const DEFAULT_NAMESPACE = 'default';

export interface ConfigFile {
  server?: string;
  /** Several control planes (failover); wins over server when both are set. */
  servers?: string[];
  token?: string;
  namespace?: string;
  /** The CA that signed the control plane's certificate: a PEM file, or the PEM base64-encoded (kubeconfig's names). */
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  /** A client certificate and key (user CN, groups O), as files or base64 PEM. */
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
}

export interface Settings {
  server: string;
  token: string;
  namespace: string;
  /** Where each value came from, for `config view`. */
  origin: { server: Origin; token: Origin; namespace: Origin };
  /** How the server is verified and who we are to it (read by loadSettings; system roots when absent). */
  tls?: ClientTls;
}
export type Origin = 'flag' | 'env' | 'config' | 'default';

export interface Overrides {
  server?: string;
  token?: string;
  namespace?: string;
  /** --certificate-authority, --client-certificate, --client-key: PEM files. */
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.SKIFF_CONFIG || join(env.HOME || homedir(), '.skiff', 'config.yaml');
}

const KEYS = [
  'server', 'token', 'namespace', 'certificate-authority', 'certificate-authority-data',
  'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data',
] as const;

export async function readConfig(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new ApiError('BadRequest', `cannot read ${path}: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ApiError('BadRequest', `cannot read ${path}: expected a mapping with server, token, namespace`);
  }
  const out: ConfigFile = {};
  for (const [k, v] of Object.entries(doc)) {
    if (k === 'servers') {
      if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x !== '')) {
        throw new ApiError('BadRequest', `cannot read ${path}: "servers" must be a list of control-plane addresses (host:port)`);
      }
      out.servers = v as string[];
      continue;
    }
    if (!(KEYS as readonly string[]).includes(k)) {
      throw new ApiError('BadRequest', `cannot read ${path}: unknown key "${k}" (expected servers or one of ${KEYS.join(', ')})`);
    }
    if (typeof v !== 'string') throw new ApiError('BadRequest', `cannot read ${path}: "${k}" must be a string`);
    out[k as (typeof KEYS)[number]] = v;
  }
  return out;
}

/** Writes the file atomically with mode 0600 (it holds a bearer token). */
export async function writeConfig(path: string, cfg: ConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const clean: ConfigFile = {};
  for (const k of KEYS) if (cfg[k] !== undefined && cfg[k] !== '') clean[k] = cfg[k];
  if (cfg.servers?.length) clean.servers = cfg.servers;
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, stringify(clean), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** Flags > environment > config file > defaults. */
export function resolveSettings(flags: Overrides, env: NodeJS.ProcessEnv, file: ConfigFile): Settings {
  const pick = (f: string | undefined, e: string | undefined, c: string | undefined, d: string): [string, Origin] => {
    if (f) return [f, 'flag'];
    if (e) return [e, 'env'];
    if (c) return [c, 'config'];
    return [d, 'default'];
  };
  const [server, so] = pick(flags.server, env.SKIFF_SERVER, file.servers?.join(',') || file.server, DEFAULT_SERVER);
  const [token, to] = pick(flags.token, env.SKIFF_TOKEN, file.token, '');
  const [namespace, no] = pick(flags.namespace, undefined, file.namespace, DEFAULT_NAMESPACE);
  return { server, token, namespace, origin: { server: so, token: to, namespace: no } };
}

/** One PEM from a flag's file, else the file's path key, else its base64 data key; '' when none. */
async function pem(flag: string | undefined, file: ConfigFile, pathKey: keyof ConfigFile, dataKey: keyof ConfigFile): Promise<string> {
  const path = flag || (file[pathKey] as string | undefined);
  if (path) {
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      throw new ApiError('BadRequest', `cannot read ${path} (${pathKey}): ${(e as Error).message}`);
    }
  }
  const data = file[dataKey] as string | undefined;
  return data ? Buffer.from(data, 'base64').toString('utf8') : '';
}

/** The TLS material of flags > SKIFF_CERTIFICATE_AUTHORITY > the file. */
export async function resolveTls(flags: Overrides, env: NodeJS.ProcessEnv, file: ConfigFile): Promise<ClientTls> {
  const ca = await pem(flags.certificateAuthority || env.SKIFF_CERTIFICATE_AUTHORITY, file, 'certificate-authority', 'certificate-authority-data');
  const cert = await pem(flags.clientCertificate, file, 'client-certificate', 'client-certificate-data');
  const key = await pem(flags.clientKey, file, 'client-key', 'client-key-data');
  if (Boolean(cert) !== Boolean(key)) throw new ApiError('BadRequest', 'a client certificate needs its key: give both (client-certificate and client-key)');
  return cert ? { ca, cert, key } : { ca };
}

export async function loadSettings(flags: Overrides, env: NodeJS.ProcessEnv = process.env): Promise<Settings> {
  const file = await readConfig(configPath(env));
  return { ...resolveSettings(flags, env, file), tls: await resolveTls(flags, env, file) };
}
