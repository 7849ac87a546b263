import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ensureEncryptionKey } from './ensure.js';
import { layout } from './layout.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skiff-up-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('writes one random 32-byte key (mode 0600) once and keeps it on the next up', async () => {
  const l = layout(dir);
  await ensureEncryptionKey(l);
  const first = await readFile(l.encryptionKeyFile, 'utf8');
  expect((await stat(l.encryptionKeyFile)).mode & 0o777).toBe(0o600);
  const doc = parse(first) as { keys: { name: string; secret: string }[] };
  expect(doc.keys).toHaveLength(1);
  expect(doc.keys[0]!.name).toBe('key-1');
  expect(Buffer.from(doc.keys[0]!.secret, 'base64')).toHaveLength(32);
  await ensureEncryptionKey(l);
  expect(await readFile(l.encryptionKeyFile, 'utf8')).toBe(first);
});
