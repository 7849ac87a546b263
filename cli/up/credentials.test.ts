import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseTokens } from '../../control-plane/api/auth.js';
import { ensureCredentials, nodeTokenFile } from './credentials.js';
import { layout, type Layout } from './layout.js';

let dir = '';
let l: Layout;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skiff-creds-'));
  l = layout(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('ensureCredentials', () => {
  it('makes an admin in system:masters and a system:node identity per node, files 0600', async () => {
    const admin = await ensureCredentials(l, ['n1', 'n2']);
    const tokens = parseTokens(await readFile(l.tokenFile, 'utf8'));
    expect(tokens.get(admin)).toEqual({ name: 'admin', groups: ['system:masters', 'system:authenticated'] });
    const n2 = (await readFile(nodeTokenFile(l, 'n2'), 'utf8')).trim();
    expect(tokens.get(n2)).toEqual({ name: 'system:node:n2', groups: ['system:nodes', 'system:authenticated'] });
    expect(tokens.size).toBe(3);
    expect((await stat(l.tokenFile)).mode & 0o777).toBe(0o600);
    expect((await stat(nodeTokenFile(l, 'n1'))).mode & 0o777).toBe(0o600);
  });

  it('keeps the tokens of an earlier up, and takes an older bare token as the admin\'s', async () => {
    await writeFile(l.tokenFile, 'oldtoken\n');
    expect(await ensureCredentials(l, ['n1'])).toBe('oldtoken');
    const n1 = await readFile(nodeTokenFile(l, 'n1'), 'utf8');
    expect(await ensureCredentials(l, ['n1'])).toBe('oldtoken');
    expect(await readFile(nodeTokenFile(l, 'n1'), 'utf8')).toBe(n1);
  });
});
