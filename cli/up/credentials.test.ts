import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseTokens } from '../../control-plane/api/auth.js';
import { ensureCredentials } from './credentials.js';
import { layout, type Layout } from './layout.js';

let dir = '';
let l: Layout;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skiff-creds-'));
  l = layout(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('ensureCredentials', () => {
  it('makes an admin in system:masters and nothing for nodes (they join with a bootstrap token), file 0600', async () => {
    const admin = await ensureCredentials(l);
    const tokens = parseTokens(await readFile(l.tokenFile, 'utf8'));
    expect(tokens.get(admin)).toEqual({ name: 'admin', groups: ['system:masters', 'system:authenticated'] });
    expect(tokens.size).toBe(1);
    expect((await stat(l.tokenFile)).mode & 0o777).toBe(0o600);
  });

  it('keeps the admin token of an earlier up, takes an older bare token as the admin\'s, and drops old node lines', async () => {
    await writeFile(l.tokenFile, 'oldtoken\n');
    expect(await ensureCredentials(l)).toBe('oldtoken');
    await writeFile(l.tokenFile, 'oldtoken,admin,admin,"system:masters"\nnodetok,system:node:n1,system:node:n1,"system:nodes"\n');
    expect(await ensureCredentials(l)).toBe('oldtoken');
    expect(parseTokens(await readFile(l.tokenFile, 'utf8')).has('nodetok')).toBe(false);
  });
});
