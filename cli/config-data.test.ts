import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../proto/api/kinds.js';
import { fromManifest } from '../proto/api/manifest.js';
import { dockerConfigJson, isUtf8, parseEnvFile, readDataSources } from './config-data.js';
import { tableHeaders, tableRow } from '../proto/api/columns/columns.js';
import { describeObject } from './render/describe.js';
import { NOW } from './testing/objects.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skiff-cfg-'));
  await mkdir(join(dir, 'conf'));
  await writeFile(join(dir, 'conf', 'a.properties'), 'a=1\n');
  await writeFile(join(dir, 'conf', 'b.bin'), Buffer.from([0xff, 0xfe, 0x00]));
  await writeFile(join(dir, 'app.env'), '# comment\n\nLEVEL=debug\n  NAME=with = sign\nFROM_ENV\nUNSET_ONE\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const text = (m: Map<string, Buffer>): Record<string, string> => Object.fromEntries([...m].map(([k, v]) => [k, v.toString('latin1')]));

describe('create data sources', () => {
  it('reads literals, files (with and without a key), directories and env files like kubectl', async () => {
    const m = await readDataSources({
      literals: ['user=admin', 'empty='],
      files: [join(dir, 'conf'), `cfg=${join(dir, 'conf', 'a.properties')}`],
      envFiles: [join(dir, 'app.env')],
    }, { FROM_ENV: 'from-process' });
    expect(text(m)).toEqual({
      user: 'admin', empty: '', 'a.properties': 'a=1\n', 'b.bin': '\xff\xfe\x00', cfg: 'a=1\n',
      LEVEL: 'debug', NAME: 'with = sign', FROM_ENV: 'from-process',
    });
    expect(isUtf8(m.get('a.properties')!)).toBe(true);
    expect(isUtf8(m.get('b.bin')!)).toBe(false);
  });
  it('refuses duplicate keys, bad keys and missing files, naming the flag', async () => {
    await expect(readDataSources({ literals: ['a=1', 'a=2'], files: [], envFiles: [] }, {})).rejects.toThrow('--from-literal a: key "a" is given more than once');
    await expect(readDataSources({ literals: ['a/b=1'], files: [], envFiles: [] }, {})).rejects.toThrow(/"a\/b" is not a valid key name/);
    await expect(readDataSources({ literals: ['novalue'], files: [], envFiles: [] }, {})).rejects.toThrow('expected KEY=VALUE');
    await expect(readDataSources({ literals: [], files: [join(dir, 'nope')], envFiles: [] }, {})).rejects.toThrow(/no such file/);
    expect(() => parseEnvFile('1BAD=x', 'f.env', {})).toThrow('f.env:1: "1BAD" is not a valid environment variable name');
  });
  it('builds the .dockerconfigjson kubectl builds', () => {
    expect(JSON.parse(dockerConfigJson({ server: '127.0.0.1:5001', username: 'u', password: 'p', email: 'e@x' }))).toEqual({
      auths: { '127.0.0.1:5001': { username: 'u', password: 'p', email: 'e@x', auth: Buffer.from('u:p').toString('base64') } },
    });
  });
});

describe('ConfigMap and Secret output', () => {
  const secret = fromManifest({
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: 'db', namespace: 'default', creationTimestamp: new Date(NOW - 120_000).toISOString() },
    data: { password: Buffer.from('hunter2').toString('base64'), user: Buffer.from('admin').toString('base64') },
  }).object;
  const cm = fromManifest({
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app', namespace: 'default', creationTimestamp: new Date(NOW - 60_000).toISOString() },
    data: { 'app.properties': 'level=debug' }, binaryData: { logo: Buffer.from([1, 2, 3]).toString('base64') },
  }).object;

  it('get prints kubectl columns and no values', () => {
    const opts = { wide: false, withNamespace: false, now: NOW };
    expect(tableHeaders(KINDS.Secret, opts)).toEqual(['NAME', 'TYPE', 'DATA', 'AGE']);
    expect(tableRow(KINDS.Secret, secret, opts)).toEqual(['db', 'Opaque', '2', '2m']);
    expect(tableHeaders(KINDS.ConfigMap, opts)).toEqual(['NAME', 'DATA', 'AGE']);
    expect(tableRow(KINDS.ConfigMap, cm, opts)).toEqual(['app', '2', '60s']);
  });
  it('describe pod names env references without resolving them', () => {
    const p = fromManifest({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' },
      spec: { containers: [{ name: 'c', image: 'i:1', env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }], envFrom: [{ configMapRef: { name: 'app' }, prefix: 'APP_' }] }] },
    }).object;
    const text = describeObject(KINDS.Pod, p, { events: [], now: NOW });
    expect(text).toMatch(/Environment Variables from:\s+app {2}ConfigMap {2}with prefix 'APP_' {2}Optional: false\n/);
    expect(text).toMatch(/Environment:\s+PW: <set to the key 'password' in secret 'db'> {2}Optional: false\n/);
  });
  it('describe shows Secret sizes only, ConfigMap values in full', () => {
    const s = describeObject(KINDS.Secret, secret, { events: [], now: NOW });
    expect(s).toMatch(/Type:\s+Opaque\n\nData\n====\npassword:\s+7 bytes\nuser:\s+5 bytes\n/);
    expect(s).not.toContain('hunter2');
    expect(s).not.toContain(Buffer.from('hunter2').toString('base64'));
    const c = describeObject(KINDS.ConfigMap, cm, { events: [], now: NOW });
    expect(c).toContain('Data\n====\napp.properties:\n----\nlevel=debug\n\n\nBinaryData\n====\nlogo: 3 bytes\n');
  });
});
