import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AesGcmTransformer, ENVELOPE_PREFIX, newKeyFileText, parseEnvelope, parseKeyFile } from './encryption.js';

const key = (name: string) => ({ name, secret: randomBytes(32) });

describe('AesGcmTransformer', () => {
  it('writes the k8s:enc:aesgcm:v1:<key>: envelope with a fresh nonce each time, and reads it back', () => {
    const t = new AesGcmTransformer([key('k1')]);
    const a = t.encrypt(Buffer.from('hunter2'), '/skiff/secrets/default/s');
    const b = t.encrypt(Buffer.from('hunter2'), '/skiff/secrets/default/s');
    expect(a.subarray(0, ENVELOPE_PREFIX.length + 3).toString()).toBe('k8s:enc:aesgcm:v1:k1:');
    expect(a.includes(Buffer.from('hunter2'))).toBe(false);
    // nonce (12) + ciphertext (7) + tag (16)
    expect(parseEnvelope(a).rest.length).toBe(12 + 7 + 16);
    expect(a.equals(b)).toBe(false);
    expect(t.decrypt(a, '/skiff/secrets/default/s')).toEqual({ plaintext: Buffer.from('hunter2'), stale: false });
  });

  it('binds a value to its etcd key and detects tampering', () => {
    const t = new AesGcmTransformer([key('k1')]);
    const v = t.encrypt(Buffer.from('x'), '/skiff/secrets/default/a');
    expect(() => t.decrypt(v, '/skiff/secrets/default/b')).toThrow(/decryption with key "k1" failed/);
    const bad = Buffer.from(v);
    bad[bad.length - 1]! ^= 1;
    expect(() => t.decrypt(bad, '/skiff/secrets/default/a')).toThrow(/failed/);
  });

  it('rotation: old key reads (stale), new key writes; without the old key its values fail clearly', () => {
    const k1 = key('k1');
    const k2 = key('k2');
    const old = new AesGcmTransformer([k1]).encrypt(Buffer.from('v'), 'ctx');
    const both = new AesGcmTransformer([k2, k1]);
    expect(both.decrypt(old, 'ctx')).toEqual({ plaintext: Buffer.from('v'), stale: true });
    const rewritten = both.encrypt(Buffer.from('v'), 'ctx');
    expect(parseEnvelope(rewritten).name).toBe('k2');
    const onlyNew = new AesGcmTransformer([k2]);
    expect(onlyNew.decrypt(rewritten, 'ctx').plaintext.toString()).toBe('v');
    expect(() => onlyNew.decrypt(old, 'ctx')).toThrow(/encrypted with key "k1", which is not in the encryption key file/);
  });

  it('reads plaintext written before encryption was on, as stale', () => {
    const t = new AesGcmTransformer([key('k1')]);
    expect(t.decrypt(Buffer.from([0x0a, 0x02, 0x76, 0x31]), 'ctx')).toEqual({ plaintext: Buffer.from([0x0a, 0x02, 0x76, 0x31]), stale: true });
  });

  it('refuses keys of the wrong size and duplicate names', () => {
    expect(() => new AesGcmTransformer([{ name: 'k', secret: randomBytes(16) }])).toThrow(/16 bytes; AES-256 needs 32/);
    expect(() => new AesGcmTransformer([key('k'), key('k')])).toThrow(/listed twice/);
    expect(() => new AesGcmTransformer([])).toThrow(/at least one/);
  });
});

describe('key file', () => {
  it('parses what newKeyFileText writes, YAML and JSON', () => {
    const t = parseKeyFile(newKeyFileText('first'));
    expect(t.writeKey).toBe('first');
    const s = randomBytes(32).toString('base64');
    expect(parseKeyFile(JSON.stringify({ keys: [{ name: 'a', secret: s }, { name: 'b', secret: s }] })).keys.map((k) => k.name)).toEqual(['a', 'b']);
  });
  it('names what is wrong', () => {
    expect(() => parseKeyFile('keys: []', 'f.yaml')).toThrow('f.yaml: expected "keys:" with at least one {name, secret}');
    expect(() => parseKeyFile('keys: [{name: a, secret: "!!"}]', 'f.yaml')).toThrow('f.yaml: keys[0].secret: must be base64 of 32 bytes');
    expect(() => parseKeyFile(`keys: [{name: a, secret: ${randomBytes(8).toString('base64')}}]`, 'f.yaml')).toThrow(/f\.yaml: key "a" is 8 bytes/);
  });
});
