// ConfigMap and Secret rules (Kubernetes' ValidateConfigMap / ValidateSecret): key names, the
// 1 MiB size limit, the Secret types with required keys, and `immutable`. Also the pod-side
// references to them (env valueFrom, envFrom, configMap/secret volumes).
import type { ConfigMap, KeyToPath, Secret } from '../../../proto/gen/skiff/v1/config.js';
import type { Container, Volume } from '../../../proto/gen/skiff/v1/core.js';
import { Causes, join } from './causes.js';
import { dns1123Subdomain } from './names.js';
import { validateBootstrapTokenSecret } from './bootstrap-token.js';
import { BOOTSTRAP_TOKEN_SECRET_TYPE } from '../../../proto/api/bootstrap-token.js';

/** Kubernetes' MaxSecretSize, which is also the ConfigMap limit (1 MiB over all keys). */
export const MAX_DATA_BYTES = 1024 * 1024;
const KEY = /^[-._a-zA-Z0-9]+$/;

export const SECRET_TYPES = {
  opaque: 'Opaque',
  dockerConfigJson: 'kubernetes.io/dockerconfigjson',
  dockerCfg: 'kubernetes.io/dockercfg',
  tls: 'kubernetes.io/tls',
  basicAuth: 'kubernetes.io/basic-auth',
  sshAuth: 'kubernetes.io/ssh-auth',
} as const;
const KNOWN_TYPES: string[] = Object.values(SECRET_TYPES);

/** '' when k is a valid ConfigMap/Secret key (IsConfigMapKey), else why not. */
export function configKey(k: string): string {
  if (k.length > 253) return `"${k}" must be no more than 253 characters`;
  if (!KEY.test(k)) return `"${k}" a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "key.name")`;
  if (k === '.' || k === '..' || k.startsWith('..')) return `"${k}" must not be '.' or '..' and must not start with '..'`;
  return '';
}

function keys(m: Record<string, unknown>, path: string, c: Causes): void {
  for (const k of Object.keys(m)) {
    const why = configKey(k);
    if (why) c.add(`${path}[${k}]`, why);
  }
}

export function validateConfigMap(cm: ConfigMap, c: Causes): void {
  keys(cm.data, 'data', c);
  keys(cm.binaryData, 'binaryData', c);
  let size = 0;
  for (const [k, v] of Object.entries(cm.data)) {
    size += k.length + Buffer.byteLength(v);
    if (k in cm.binaryData) c.add(`data[${k}]`, 'duplicate of key present in binaryData');
  }
  for (const [k, v] of Object.entries(cm.binaryData)) size += k.length + v.length;
  if (size > MAX_DATA_BYTES) c.add('', `Too long: must have at most ${MAX_DATA_BYTES} bytes (has ${size})`);
}

function has(s: Secret, key: string): boolean {
  return key in s.data;
}

function jsonKey(s: Secret, key: string, c: Causes): void {
  if (!has(s, key)) return c.add(`data[${key}]`, `required: a ${s.type} Secret needs the key "${key}"`);
  try {
    JSON.parse(Buffer.from(s.data[key]!).toString('utf8'));
  } catch (e) {
    c.add(`data[${key}]`, `invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function validateSecret(s: Secret, c: Causes): void {
  keys(s.data, 'data', c);
  let size = 0;
  for (const [k, v] of Object.entries(s.data)) size += k.length + v.length;
  if (size > MAX_DATA_BYTES) c.add('data', `Too long: must have at most ${MAX_DATA_BYTES} bytes (has ${size})`);
  switch (s.type) {
    case SECRET_TYPES.opaque:
      break;
    case SECRET_TYPES.dockerConfigJson:
      jsonKey(s, '.dockerconfigjson', c);
      break;
    case SECRET_TYPES.dockerCfg:
      jsonKey(s, '.dockercfg', c);
      break;
    case SECRET_TYPES.tls:
      for (const k of ['tls.crt', 'tls.key']) if (!has(s, k)) c.add(`data[${k}]`, `required: a ${s.type} Secret needs the key "${k}"`);
      break;
    case SECRET_TYPES.basicAuth:
      if (!has(s, 'username') && !has(s, 'password')) c.add('data', `a ${s.type} Secret needs the key "username" or "password"`);
      break;
    case SECRET_TYPES.sshAuth:
      if (!has(s, 'ssh-privatekey')) c.add('data[ssh-privatekey]', `required: a ${s.type} Secret needs the key "ssh-privatekey"`);
      break;
    case BOOTSTRAP_TOKEN_SECRET_TYPE:
      validateBootstrapTokenSecret(s, c);
      break;
    default:
      // Custom types are opaque labels in Kubernetes; kubernetes.io/ ones mean something Skiff does not do.
      if (!s.type) c.add('type', 'required');
      else if (s.type.startsWith('kubernetes.io/')) {
        c.add('type', `unsupported value "${s.type}": supported values: ${KNOWN_TYPES.map((t) => `"${t}"`).join(', ')}, or a custom type outside kubernetes.io/`);
      }
  }
}

function immutableData(was: boolean | undefined, now: boolean | undefined, changed: boolean, c: Causes): void {
  if (!was) return;
  if (!now) c.add('immutable', 'field is immutable when `immutable` is set');
  if (changed) c.add('data', 'field is immutable when `immutable` is set');
}

const sameMap = (a: Record<string, string | Uint8Array>, b: Record<string, string | Uint8Array>): boolean => {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => {
    const x = a[k];
    const y = b[k];
    if (y === undefined) return false;
    return typeof x === 'string' ? x === y : Buffer.compare(Buffer.from(x!), Buffer.from(y as Uint8Array)) === 0;
  });
};

export function validateConfigMapUpdate(next: ConfigMap, old: ConfigMap, c: Causes): void {
  immutableData(old.immutable, next.immutable, !sameMap(next.data, old.data) || !sameMap(next.binaryData, old.binaryData), c);
}

export function validateSecretUpdate(next: Secret, old: Secret, c: Causes): void {
  if (next.type !== old.type) c.add('type', `Invalid value: "${next.type}": field is immutable`);
  immutableData(old.immutable, next.immutable, !sameMap(next.data, old.data), c);
}

// ---- references from pods ----

function ref(name: string, key: string | undefined, path: string, nameField: string, c: Causes): void {
  if (!name) c.add(join(path, nameField), 'required');
  else {
    const why = dns1123Subdomain(name);
    if (why) c.add(join(path, nameField), why);
  }
  if (key === undefined) return;
  if (!key) c.add(join(path, 'key'), 'required');
  else {
    const why = configKey(key);
    if (why) c.add(join(path, 'key'), why);
  }
}

export function validateEnvSources(ct: Container, path: string, c: Causes): void {
  ct.env.forEach((e, i) => {
    const vf = e.valueFrom;
    if (!vf) return;
    const p = `${path}.env[${i}].valueFrom`;
    if (e.value) c.add(p, 'may not be specified when `value` is not empty');
    const n = [vf.configMapKeyRef, vf.secretKeyRef].filter(Boolean).length;
    if (n !== 1) c.add(p, 'must specify exactly one of: `configMapKeyRef` or `secretKeyRef`');
    if (vf.configMapKeyRef) ref(vf.configMapKeyRef.name, vf.configMapKeyRef.key, join(p, 'configMapKeyRef'), 'name', c);
    if (vf.secretKeyRef) ref(vf.secretKeyRef.name, vf.secretKeyRef.key, join(p, 'secretKeyRef'), 'name', c);
  });
  ct.envFrom.forEach((f, i) => {
    const p = `${path}.envFrom[${i}]`;
    const n = [f.configMapRef, f.secretRef].filter(Boolean).length;
    if (n !== 1) c.add(p, 'must specify exactly one of: `configMapRef` or `secretRef`');
    if (f.configMapRef) ref(f.configMapRef.name, undefined, join(p, 'configMapRef'), 'name', c);
    if (f.secretRef) ref(f.secretRef.name, undefined, join(p, 'secretRef'), 'name', c);
    if (f.prefix && !/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(f.prefix)) {
      c.add(join(p, 'prefix'), `"${f.prefix}" a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit`);
    }
  });
}

function mode(m: number | undefined, path: string, c: Causes): void {
  if (m !== undefined && (m < 0 || m > 0o777)) c.add(path, `Invalid value: ${m}: must be a number between 0 and 0777 (octal), both inclusive`);
}

function items(list: KeyToPath[], path: string, c: Causes): void {
  const seen = new Set<string>();
  list.forEach((it, i) => {
    const p = `${path}.items[${i}]`;
    if (!it.key) c.add(join(p, 'key'), 'required');
    else {
      const why = configKey(it.key);
      if (why) c.add(join(p, 'key'), why);
    }
    if (!it.path) c.add(join(p, 'path'), 'required');
    else if (it.path.startsWith('/')) c.add(join(p, 'path'), `"${it.path}" must be a relative path`);
    else if (it.path.split('/').includes('..')) c.add(join(p, 'path'), `"${it.path}" must not contain '..'`);
    else if (it.path.startsWith('..')) c.add(join(p, 'path'), `"${it.path}" must not start with '..'`);
    else if (seen.has(it.path)) c.add(join(p, 'path'), `Duplicate value: "${it.path}"`);
    seen.add(it.path);
    mode(it.mode, join(p, 'mode'), c);
  });
}

/** configMap / secret volume sources of one volume (the caller counts the volume's sources). */
export function validateConfigVolume(v: Volume, path: string, c: Causes): void {
  if (v.configMap) {
    const p = join(path, 'configMap');
    ref(v.configMap.name, undefined, p, 'name', c);
    items(v.configMap.items, p, c);
    mode(v.configMap.defaultMode, join(p, 'defaultMode'), c);
  }
  if (v.secret) {
    const p = join(path, 'secret');
    ref(v.secret.secretName, undefined, p, 'secretName', c);
    items(v.secret.items, p, c);
    mode(v.secret.defaultMode, join(p, 'defaultMode'), c);
  }
}
