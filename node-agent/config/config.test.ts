import { lstat, mkdtemp, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromManifest, type JsonObject } from '../../proto/api/manifest.js';
import type { ConfigMap, Secret } from '../../proto/gen/skiff/v1/config.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { currentFiles, writeAtomic } from './atomic-writer.js';
import { resolveEnv } from './env.js';
import { projectVolume, type ProjectedFile } from './projection.js';
import { pullAuth, registryHost } from './pull-auth.js';
import { podRefs, type ConfigSnapshot } from './snapshot.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const cm = (name: string, data: Record<string, string>, binaryData: Record<string, string> = {}): ConfigMap =>
  fromManifest({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns' }, data, binaryData }).object as ConfigMap;
const secret = (name: string, data: Record<string, string>, type = 'Opaque'): Secret =>
  fromManifest({ apiVersion: 'v1', kind: 'Secret', type, metadata: { name, namespace: 'ns' }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) }).object as Secret;
const pod = (container: JsonObject, spec: JsonObject = {}): Pod =>
  fromManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [{ name: 'c', image: 'i:1', ...container }], ...spec } }).object as Pod;
const snap = (cms: ConfigMap[], secrets: Secret[]): ConfigSnapshot => ({
  configMaps: new Map(cms.map((c) => [c.metadata!.name, c])),
  secrets: new Map(secrets.map((s) => [s.metadata!.name, s])),
});

describe('resolveEnv', () => {
  const s = snap([cm('app', { mode: 'prod', 'bad key': 'x', LEVEL: 'info' })], [secret('db', { password: 'hunter2', user: 'admin' })]);

  it('envFrom first (prefixed, invalid names skipped), then env, which wins', () => {
    const p = pod({
      envFrom: [{ configMapRef: { name: 'app' }, prefix: 'APP_' }, { secretRef: { name: 'db' } }],
      env: [
        { name: 'APP_LEVEL', value: 'debug' },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'app', key: 'mode' } } },
        { name: 'PW', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      ],
    });
    expect(resolveEnv(p, p.spec!.containers[0]!, s)).toEqual({
      env: [
        { name: 'APP_mode', value: 'prod' }, { name: 'APP_LEVEL', value: 'debug' }, { name: 'password', value: 'hunter2' },
        { name: 'user', value: 'admin' }, { name: 'MODE', value: 'prod' }, { name: 'PW', value: 'hunter2' },
      ],
      skipped: ['APP_bad key'],
    });
  });

  it.each([
    [{ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] }, 'configmap "nope" not found'],
    [{ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'db', key: 'nokey' } } }] }, "couldn't find key nokey in Secret ns/db"],
    [{ envFrom: [{ secretRef: { name: 'gone' } }] }, 'secret "gone" not found'],
  ])('a missing object or key fails: %#', (c, msg) => {
    const p = pod(c);
    expect(() => resolveEnv(p, p.spec!.containers[0]!, s)).toThrow(msg);
  });

  it('optional references that are missing leave the variable out', () => {
    const p = pod({
      env: [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } },
        { name: 'B', valueFrom: { configMapKeyRef: { name: 'app', key: 'missing', optional: true } } },
      ],
      envFrom: [{ secretRef: { name: 'gone', optional: true } }],
    });
    expect(resolveEnv(p, p.spec!.containers[0]!, s).env).toEqual([]);
  });
});

describe('projectVolume', () => {
  const s = snap([cm('app', { 'a.conf': 'A' }, { logo: b64('\u0001') })], [secret('db', { password: 'pw', user: 'u' })]);
  const vol = (v: JsonObject) => pod({}, { volumes: [{ name: 'v', ...v }] }).spec!.volumes[0]!;
  const show = (m: Map<string, ProjectedFile>) => Object.fromEntries([...m].map(([k, f]) => [k, `${f.data.toString('latin1')} ${f.mode.toString(8)}`]));

  it('every key with defaultMode, or the items at their paths with their modes', () => {
    expect(show(projectVolume(vol({ configMap: { name: 'app' } }), s))).toEqual({ 'a.conf': 'A 644', logo: '\u0001 644' });
    expect(show(projectVolume(vol({ secret: { secretName: 'db', defaultMode: 0o400, items: [{ key: 'password', path: 'creds/pw', mode: 0o600 }, { key: 'user', path: 'user' }] } }), s)))
      .toEqual({ 'creds/pw': 'pw 600', user: 'u 400' });
  });
  it('missing object or item: an error unless optional', () => {
    expect(() => projectVolume(vol({ configMap: { name: 'nope' } }), s)).toThrow('configmap "nope" not found');
    expect(projectVolume(vol({ configMap: { name: 'nope', optional: true } }), s).size).toBe(0);
    expect(() => projectVolume(vol({ secret: { secretName: 'db', items: [{ key: 'x', path: 'x' }] } }), s)).toThrow('secret references non-existent config key: x');
  });
});

describe('writeAtomic', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-atomic-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const files = (o: Record<string, string>, mode = 0o644) => new Map(Object.entries(o).map(([k, v]) => [k, { data: Buffer.from(v), mode }]));

  it('writes a timestamped dir, ..data and top-level symlinks; swaps on change, removes the old dir and gone keys', async () => {
    expect(await writeAtomic(join(dir, 'v'), files({ a: '1', 'sub/b': '2' }), new Date('2026-12-02T03:00:00Z'))).toBe(true);
    const v = join(dir, 'v');
    const first = await readlink(join(v, '..data'));
    expect(first).toMatch(/^\.\.2026_12_02_03_00_00\./);
    expect(await readlink(join(v, 'a'))).toBe('..data/a');
    expect(await readlink(join(v, 'sub'))).toBe('..data/sub');
    expect(await readFile(join(v, 'sub', 'b'), 'utf8')).toBe('2');
    expect((await stat(join(v, 'a'))).mode & 0o777).toBe(0o644);

    expect(await writeAtomic(v, files({ a: '1', 'sub/b': '2' }))).toBe(false);
    expect(await readlink(join(v, '..data'))).toBe(first);

    expect(await writeAtomic(v, files({ a: 'changed', c: '3' }, 0o400))).toBe(true);
    const second = await readlink(join(v, '..data'));
    expect(second).not.toBe(first);
    expect(await readFile(join(v, 'a'), 'utf8')).toBe('changed');
    expect((await stat(join(v, 'c'))).mode & 0o777).toBe(0o400);
    expect(await lstat(join(v, 'sub')).catch(() => 'gone')).toBe('gone');
    expect((await readdir(v)).sort()).toEqual(['..data', second, 'a', 'c'].sort());
    expect(Object.fromEntries([...(await currentFiles(v))].map(([k, f]) => [k, f.data.toString()]))).toEqual({ a: 'changed', c: '3' });
  });
});

describe('pull credentials', () => {
  const reg = (server: string, user: string) =>
    secret(`r-${user}`, { '.dockerconfigjson': JSON.stringify({ auths: { [server]: { username: user, password: 'pw', auth: b64(`${user}:pw`) } } }) }, 'kubernetes.io/dockerconfigjson');

  it('finds the registry host of an image', () => {
    expect(registryHost('127.0.0.1:5001/skiff/hello:1')).toBe('127.0.0.1:5001');
    expect(registryHost('nginx')).toBe('docker.io');
    expect(registryHost('library/nginx:1')).toBe('docker.io');
    expect(registryHost('localhost/x')).toBe('localhost');
  });
  it('picks the entry for the image\'s registry, URLs and docker.io aliases included', () => {
    const secrets = [reg('other:5000', 'o'), reg('http://127.0.0.1:5001/v2/', 'me'), reg('https://index.docker.io/v1/', 'hub')];
    expect(pullAuth('127.0.0.1:5001/a/b:1', secrets)).toEqual({ username: 'me', password: 'pw', auth: b64('me:pw'), identityToken: undefined, registryToken: undefined });
    expect(pullAuth('nginx:1', secrets)?.username).toBe('hub');
    expect(pullAuth('127.0.0.1:5002/a:1', secrets)).toBeUndefined();
  });
  it('lists a pod\'s references once each', () => {
    const p = pod(
      { env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'app', key: 'k' } } }], envFrom: [{ configMapRef: { name: 'app' } }] },
      { volumes: [{ name: 's', secret: { secretName: 'db' } }], imagePullSecrets: [{ name: 'reg' }, { name: 'db' }] },
    );
    expect(podRefs(p).map((r) => `${r.kind}/${r.namespace}/${r.name}`)).toEqual(['ConfigMap/ns/app', 'Secret/ns/db', 'Secret/ns/reg']);
  });
});
