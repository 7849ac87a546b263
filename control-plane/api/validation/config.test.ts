import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../proto/api/errors.js';
import { fromManifest, toManifest, type JsonObject } from '../../../proto/api/manifest.js';
import type { Secret } from '../../../proto/gen/skiff/v1/config.js';
import { applyDefaults } from '../defaults.js';
import { configKey } from './config.js';
import { validateObject, validateUpdate } from './index.js';

function causesOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e.causes.map((c) => `${c.field}: ${c.message}`);
    throw e;
  }
  return [];
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function parsed(doc: JsonObject) {
  const { info, object } = fromManifest(doc);
  applyDefaults(info, object);
  return { info, object };
}

function problems(doc: JsonObject): string[] {
  const { info, object } = parsed(doc);
  return validateObject(info, object).map((c) => `${c.field}: ${c.message}`);
}

const cm = (extra: JsonObject): JsonObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, ...extra });
const secret = (extra: JsonObject): JsonObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, ...extra });

describe('config keys', () => {
  it.each([
    ['app.properties', ''],
    ['A_b-c.d', ''],
    ['.hidden', ''],
    ['..data', 'must not start with'],
    ['..', "must not be '.' or '..'"],
    ['a/b', 'alphanumeric'],
    ['', 'alphanumeric'],
    ['x'.repeat(254), 'no more than 253'],
  ])('%s', (k, why) => {
    if (why) expect(configKey(k)).toContain(why);
    else expect(configKey(k)).toBe('');
  });
});

describe('ConfigMap', () => {
  it('accepts data and binaryData', () => {
    expect(problems(cm({ data: { 'a.txt': 'x' }, binaryData: { bin: b64('\u0000\u0001') } }))).toEqual([]);
  });
  it('refuses bad keys, a key in both maps and more than 1 MiB', () => {
    expect(problems(cm({ data: { 'a/b': 'x', same: 'x' }, binaryData: { same: b64('y') } }))).toEqual([
      'data[a/b]: "a/b" a valid config key must consist of alphanumeric characters, \'-\', \'_\' or \'.\' (e.g. "key.name")',
      'data[same]: duplicate of key present in binaryData',
    ]);
    expect(problems(cm({ data: { big: 'x'.repeat(1024 * 1024) } }))[0]).toMatch(/at most 1048576 bytes/);
  });
  it('refuses strict-base64 violations in binaryData at decode', () => {
    expect(causesOf(() => fromManifest(cm({ binaryData: { k: 'not base64!' } })))).toEqual(['binaryData[k]: illegal base64 data: expected standard base64 with padding']);
  });
  it('an immutable ConfigMap refuses data changes and unsetting immutable', () => {
    const old = parsed(cm({ data: { a: '1' }, immutable: true }));
    const next = parsed(cm({ data: { a: '2' } }));
    expect(validateUpdate(next.info, next.object, old.object).map((c) => c.field)).toEqual(['immutable', 'data']);
    const same = parsed(cm({ data: { a: '1' }, immutable: true, metadata: { name: 'c', labels: { x: 'y' } } }));
    expect(validateUpdate(same.info, same.object, old.object)).toEqual([]);
  });
});

describe('Secret', () => {
  it('defaults type to Opaque and merges stringData into data (stringData wins), never keeping it', () => {
    const { info, object } = parsed(secret({ data: { a: b64('old'), b: b64('keep') }, stringData: { a: 'new' } }));
    const s = object as Secret;
    expect(s.type).toBe('Opaque');
    expect(s.stringData).toEqual({});
    expect(Buffer.from(s.data.a!).toString()).toBe('new');
    expect(toManifest(info, s)).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, data: { a: b64('new'), b: b64('keep') }, type: 'Opaque' });
  });
  it('an empty value round-trips as ""', () => {
    const { info, object } = parsed(secret({ data: { empty: '' } }));
    expect(toManifest(info, object).data).toEqual({ empty: '' });
  });
  it('dockerconfigjson needs .dockerconfigjson holding valid JSON', () => {
    const t = 'kubernetes.io/dockerconfigjson';
    expect(problems(secret({ type: t, stringData: { '.dockerconfigjson': '{"auths":{}}' } }))).toEqual([]);
    expect(problems(secret({ type: t, stringData: { other: 'x' } }))).toEqual([
      'data[.dockerconfigjson]: required: a kubernetes.io/dockerconfigjson Secret needs the key ".dockerconfigjson"',
    ]);
    expect(problems(secret({ type: t, stringData: { '.dockerconfigjson': '{nope' } }))[0]).toMatch(/^data\[\.dockerconfigjson\]: invalid JSON/);
  });
  it('tls needs tls.crt and tls.key', () => {
    expect(problems(secret({ type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'c' } }))).toEqual([
      'data[tls.key]: required: a kubernetes.io/tls Secret needs the key "tls.key"',
    ]);
  });
  it('custom types pass, unknown kubernetes.io/ types are refused', () => {
    expect(problems(secret({ type: 'example.com/thing' }))).toEqual([]);
    expect(problems(secret({ type: 'kubernetes.io/service-account-token' }))[0]).toMatch(/^type: unsupported value/);
  });
  it('type is immutable, and immutable Secrets keep their data', () => {
    const old = parsed(secret({ stringData: { a: '1' }, immutable: true }));
    const next = parsed(secret({ type: 'example.com/x', stringData: { a: '2' }, immutable: true }));
    expect(validateUpdate(next.info, next.object, old.object).map((c) => c.field)).toEqual(['type', 'data']);
  });
});

describe('pod references', () => {
  const pod = (container: JsonObject, volumes: JsonObject[] = []): JsonObject => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
    spec: { containers: [{ name: 'c', image: 'i:1', ...container }], volumes, imagePullSecrets: [{ name: 'reg' }] },
  });
  it('accepts env valueFrom, envFrom and configMap/secret volumes', () => {
    expect(problems(pod({
      env: [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 'cm', key: 'a', optional: true } } },
        { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'b' } } },
      ],
      envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'cm' } }, { secretRef: { name: 's', optional: true } }],
      volumeMounts: [{ name: 'c', mountPath: '/c' }, { name: 's', mountPath: '/s' }],
    }, [
      { name: 'c', configMap: { name: 'cm', items: [{ key: 'a', path: 'dir/a.conf', mode: 0o600 }], defaultMode: 0o644 } },
      { name: 's', secret: { secretName: 's', optional: true } },
    ]))).toEqual([]);
  });
  it('names every bad reference with its path', () => {
    expect(problems(pod({
      env: [
        { name: 'A', value: 'x', valueFrom: { configMapKeyRef: { name: 'cm', key: 'a' } } },
        { name: 'B', valueFrom: { configMapKeyRef: { name: '', key: '' }, secretKeyRef: { name: 's', key: 'k' } } },
      ],
      envFrom: [{}],
    }, [
      { name: 'v', configMap: { name: 'cm', items: [{ key: 'a', path: '../x' }, { key: 'b', path: '/abs', mode: 0o1777 }], defaultMode: -1 } },
      { name: 'w', secret: {} },
    ]))).toEqual([
      'spec.volumes[0].configMap.items[0].path: "../x" must not contain \'..\'',
      'spec.volumes[0].configMap.items[1].path: "/abs" must be a relative path',
      'spec.volumes[0].configMap.items[1].mode: Invalid value: 1023: must be a number between 0 and 0777 (octal), both inclusive',
      'spec.volumes[0].configMap.defaultMode: Invalid value: -1: must be a number between 0 and 0777 (octal), both inclusive',
      'spec.volumes[1].secret.secretName: required',
      'spec.containers[0].env[0].valueFrom: may not be specified when `value` is not empty',
      'spec.containers[0].env[1].valueFrom: must specify exactly one of: `configMapKeyRef` or `secretKeyRef`',
      'spec.containers[0].env[1].valueFrom.configMapKeyRef.name: required',
      'spec.containers[0].env[1].valueFrom.configMapKeyRef.key: required',
      'spec.containers[0].envFrom[0]: must specify exactly one of: `configMapRef` or `secretRef`',
    ]);
  });
  it('refuses env fields Skiff does not act on (fieldRef) as unknown', () => {
    expect(causesOf(() => fromManifest(pod({ env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] })))).toEqual([
      'spec.containers[0].env[0].valueFrom.fieldRef: unknown field "fieldRef"',
    ]);
  });
});
