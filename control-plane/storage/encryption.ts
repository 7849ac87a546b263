// Encryption at rest of Secret values in etcd, as kube-apiserver's EncryptionConfiguration with
// the aesgcm provider: AES-256-GCM, a random 12-byte nonce per write, the etcd key as
// additional authenticated data (a value copied under another key does not decrypt), and the
// key's name in a prefix, `k8s:enc:aesgcm:v1:<name>:<nonce><ciphertext><tag>`, so keys rotate:
// the first key writes, every listed key reads. Values without the prefix are plaintext
// written before encryption was turned on and still read.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';

export const ENVELOPE_PREFIX = 'k8s:enc:aesgcm:v1:';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const NAME = /^[A-Za-z0-9][-._A-Za-z0-9]*$/;

export interface EncryptionKey {
  name: string;
  /** 32 bytes (AES-256). */
  secret: Buffer;
}

export class EncryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncryptionError';
  }
}

export interface Decrypted {
  plaintext: Buffer;
  /** Read with a key other than the write key (or stored in plaintext): re-write it to rotate. */
  stale: boolean;
}

export class AesGcmTransformer {
  private readonly byName: Map<string, Buffer>;

  constructor(readonly keys: readonly EncryptionKey[]) {
    if (keys.length === 0) throw new EncryptionError('at least one encryption key is needed');
    this.byName = new Map();
    for (const k of keys) {
      if (!NAME.test(k.name)) throw new EncryptionError(`key name "${k.name}" must be letters, digits, '-', '_' or '.'`);
      if (k.secret.length !== KEY_BYTES) throw new EncryptionError(`key "${k.name}" is ${k.secret.length} bytes; AES-256 needs ${KEY_BYTES}`);
      if (this.byName.has(k.name)) throw new EncryptionError(`key name "${k.name}" is listed twice`);
      this.byName.set(k.name, k.secret);
    }
  }

  get writeKey(): string {
    return this.keys[0]!.name;
  }

  encrypt(plaintext: Uint8Array, context: string): Buffer {
    const k = this.keys[0]!;
    const nonce = randomBytes(NONCE_BYTES);
    const c = createCipheriv('aes-256-gcm', k.secret, nonce);
    c.setAAD(Buffer.from(context));
    const body = Buffer.concat([c.update(plaintext), c.final()]);
    return Buffer.concat([Buffer.from(`${ENVELOPE_PREFIX}${k.name}:`), nonce, body, c.getAuthTag()]);
  }

  decrypt(stored: Uint8Array, context: string): Decrypted {
    const buf = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
    const { name, rest } = parseEnvelope(buf);
    if (name === undefined) return { plaintext: buf, stale: true };
    const secret = this.byName.get(name);
    if (!secret) throw new EncryptionError(`${context} is encrypted with key "${name}", which is not in the encryption key file (keys: ${[...this.byName.keys()].join(', ')})`);
    if (rest.length < NONCE_BYTES + TAG_BYTES) throw new EncryptionError(`${context}: encrypted value is truncated`);
    const d = createDecipheriv('aes-256-gcm', secret, rest.subarray(0, NONCE_BYTES));
    d.setAAD(Buffer.from(context));
    d.setAuthTag(rest.subarray(rest.length - TAG_BYTES));
    try {
      const plaintext = Buffer.concat([d.update(rest.subarray(NONCE_BYTES, rest.length - TAG_BYTES)), d.final()]);
      return { plaintext, stale: name !== this.writeKey };
    } catch {
      throw new EncryptionError(`${context}: decryption with key "${name}" failed (wrong key material, or the value was altered or moved)`);
    }
  }
}

/** The key name of an encrypted value (undefined for plaintext) and what follows the prefix. */
export function parseEnvelope(buf: Buffer): { name: string | undefined; rest: Buffer } {
  if (buf.length < ENVELOPE_PREFIX.length || buf.subarray(0, ENVELOPE_PREFIX.length).toString('latin1') !== ENVELOPE_PREFIX) {
    return { name: undefined, rest: buf };
  }
  const end = buf.indexOf(0x3a /* : */, ENVELOPE_PREFIX.length);
  if (end < 0) throw new EncryptionError('encrypted value without a key name');
  return { name: buf.subarray(ENVELOPE_PREFIX.length, end).toString('latin1'), rest: buf.subarray(end + 1) };
}

/** Reads values of the given kinds through the transformer (Secrets only, as kube-apiserver's default). */
export interface ValueTransformer {
  encrypt(plaintext: Uint8Array, context: string): Buffer;
  decrypt(stored: Uint8Array, context: string): Decrypted;
}

/**
 * The key file: YAML or JSON, `keys:` a list of `{name, secret}` with secret the base64 of 32
 * random bytes (`head -c 32 /dev/urandom | base64`). The first key encrypts new writes; all
 * of them decrypt. To rotate: put a new key first, restart every control plane, re-write the
 * Secrets (the control plane does so at start for those under an older key), then drop the old key.
 */
export function parseKeyFile(text: string, source = 'encryption key file'): AesGcmTransformer {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new EncryptionError(`${source}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const list = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list) || list.length === 0) throw new EncryptionError(`${source}: expected "keys:" with at least one {name, secret}`);
  const keys = list.map((k: unknown, i): EncryptionKey => {
    const { name, secret } = (k ?? {}) as { name?: unknown; secret?: unknown };
    if (typeof name !== 'string' || !name) throw new EncryptionError(`${source}: keys[${i}].name: required`);
    if (typeof secret !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(secret)) {
      throw new EncryptionError(`${source}: keys[${i}].secret: must be base64 of ${KEY_BYTES} bytes`);
    }
    return { name, secret: Buffer.from(secret, 'base64') };
  });
  try {
    return new AesGcmTransformer(keys);
  } catch (e) {
    throw new EncryptionError(`${source}: ${(e as Error).message}`);
  }
}

export async function loadKeyFile(path: string): Promise<AesGcmTransformer> {
  return parseKeyFile(await readFile(path, 'utf8'), path);
}

/** A new key file's text with one fresh random key (what `skiff up` writes). */
export function newKeyFileText(name = `key-${new Date().toISOString().slice(0, 10)}`): string {
  return `# Secrets are encrypted at rest with the first key (AES-256-GCM); every key listed decrypts.\nkeys:\n  - name: ${name}\n    secret: ${randomBytes(KEY_BYTES).toString('base64')}\n`;
}
