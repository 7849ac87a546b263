import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configPath, loadSettings, readConfig, resolveSettings, writeConfig } from './config.js';

describe('settings precedence: flags > env > config file > defaults', () => {
  const file = { server: 'file:1', token: 'file-token', namespace: 'file-ns' };
  it.each([
    ['defaults alone', {}, {}, {}, { server: '127.0.0.1:6443', token: '', namespace: 'default' }],
    ['the config file beats defaults', {}, {}, file, { server: 'file:1', token: 'file-token', namespace: 'file-ns' }],
    ['env beats the config file', {}, { SKIFF_SERVER: 'env:2', SKIFF_TOKEN: 'env-token' }, file, { server: 'env:2', token: 'env-token', namespace: 'file-ns' }],
    ['flags beat env', { server: 'flag:3', token: 'flag-token', namespace: 'flag-ns' }, { SKIFF_SERVER: 'env:2', SKIFF_TOKEN: 'env-token' }, file, { server: 'flag:3', token: 'flag-token', namespace: 'flag-ns' }],
    ['empty env values do not count', {}, { SKIFF_SERVER: '' }, file, { server: 'file:1', token: 'file-token', namespace: 'file-ns' }],
  ])('%s', (_n, flags, env, cfg, want) => {
    expect(resolveSettings(flags, env, cfg)).toMatchObject(want);
  });

  it('records where each value came from', () => {
    expect(resolveSettings({ namespace: 'x' }, { SKIFF_TOKEN: 't' }, { server: 's' }).origin).toEqual({ server: 'config', token: 'env', namespace: 'flag' });
  });
});

describe('config file', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-cfg-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lives in ~/.skiff/config.yaml unless SKIFF_CONFIG says otherwise', () => {
    expect(configPath({ HOME: '/home/u' })).toBe('/home/u/.skiff/config.yaml');
    expect(configPath({ HOME: '/home/u', SKIFF_CONFIG: '/etc/skiff.yaml' })).toBe('/etc/skiff.yaml');
  });

  it('is written with mode 0600 and read back', async () => {
    const path = join(dir, '.skiff', 'config.yaml');
    await writeConfig(path, { server: '10.0.0.1:6443', token: 'secret', namespace: '' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readConfig(path)).toEqual({ server: '10.0.0.1:6443', token: 'secret' });
    expect(await readFile(path, 'utf8')).toBe('server: 10.0.0.1:6443\ntoken: secret\n');
    const s = await loadSettings({}, { HOME: dir });
    expect(s).toMatchObject({ server: '10.0.0.1:6443', token: 'secret', namespace: 'default' });
  });

  it('takes a servers: list of control planes, used as one comma list below flags and env', async () => {
    const path = join(dir, 'ha.yaml');
    await writeConfig(path, { servers: ['10.0.0.1:6443', '10.0.0.2:6443'], token: 't' });
    expect(await readFile(path, 'utf8')).toBe('token: t\nservers:\n  - 10.0.0.1:6443\n  - 10.0.0.2:6443\n');
    const cfg = await readConfig(path);
    expect(resolveSettings({}, {}, cfg)).toMatchObject({ server: '10.0.0.1:6443,10.0.0.2:6443' });
    expect(resolveSettings({ server: '10.0.0.9:6443' }, {}, cfg).server).toBe('10.0.0.9:6443');
    await writeFile(join(dir, 'bad-servers.yaml'), 'servers: 10.0.0.1:6443\n');
    await expect(readConfig(join(dir, 'bad-servers.yaml'))).rejects.toThrow('"servers" must be a list');
  });

  it('is empty when missing and refuses unknown keys', async () => {
    expect(await readConfig(join(dir, 'none.yaml'))).toEqual({});
    await writeFile(join(dir, 'bad.yaml'), 'sever: x\n');
    await expect(readConfig(join(dir, 'bad.yaml'))).rejects.toThrow('unknown key "sever"');
  });
});
