import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../proto/api/errors.js';
import { checkDocuments, loadManifests, parseDocuments, setNamespaces } from './manifests.js';

const deploy = (name: string, extra = ''): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: app
        image: hello:1${extra}
`;

function caught(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

async function caughtAsync(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

describe('parseDocuments', () => {
  it('reads YAML 1.1 as kubectl does: a leading-zero mode is octal', () => {
    const [d] = parseDocuments('kind: Pod\nspec: {volumes: [{name: s, secret: {secretName: s, defaultMode: 0400}}]}\n', 'f.yaml');
    expect(d?.json).toMatchObject({ spec: { volumes: [{ secret: { defaultMode: 0o400 } }] } });
  });
  it('splits multi-document YAML, skips empty documents and numbers sources from 1', () => {
    const docs = parseDocuments(`---\n${deploy('a')}---\n---\n${deploy('b')}---\n`, 'app.yaml');
    expect(docs.map((d) => d.source)).toEqual(['app.yaml#1', 'app.yaml#3']);
    expect((docs[1]?.json.metadata as { name: string }).name).toBe('b');
  });

  it('names file, line and column of a syntax error', () => {
    const e = caught(() => parseDocuments(`${deploy('a')}---\nkind: Deployment\nmetadata:\n  name: [oops\n`, 'bad.yaml'));
    expect(e.code).toBe('Invalid');
    expect(e.causes[0]?.source).toMatch(/^bad\.yaml:\d+:\d+$/);
    const [, line] = /:(\d+):/.exec(e.causes[0]?.source ?? '') ?? [];
    expect(Number(line)).toBeGreaterThanOrEqual(19);
    expect(e.describe()).toContain('bad.yaml:');
  });

  it('reports a tab indentation error with its position', () => {
    const e = caught(() => parseDocuments('apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n', 'tab.yaml'));
    expect(e.causes[0]?.source).toBe('tab.yaml:4:1');
  });

  it('refuses duplicate keys', () => {
    const e = caught(() => parseDocuments('apiVersion: v1\nkind: Namespace\nkind: Namespace\n', 'dup.yaml'));
    expect(e.causes[0]?.message).toMatch(/unique/i);
    expect(e.causes[0]?.source).toBe('dup.yaml:3:1');
  });

  it('expands a List into its items', () => {
    const docs = parseDocuments('apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n- {apiVersion: v1, kind: Namespace, metadata: {name: b}}\n', 'l.yaml');
    expect(docs.map((d) => d.source)).toEqual(['l.yaml#1.items[0]', 'l.yaml#1.items[1]']);
  });

  it('refuses a document that is not a mapping', () => {
    const e = caught(() => parseDocuments('- a\n- b\n', 'list.yaml'));
    expect(e.causes[0]).toMatchObject({ source: 'list.yaml#1', field: '(document)' });
  });
});

describe('checkDocuments', () => {
  it('reports every bad document with source and field path, in one error', () => {
    const docs = parseDocuments(`${deploy('a', '\n        ports:\n        - containerPort: "80"')}---\napiVersion: apps/v2\nkind: Deployment\nmetadata: {name: b}\n---\n${deploy('c')}`, 'app.yaml');
    const e = caught(() => checkDocuments(docs));
    expect(e.code).toBe('Invalid');
    expect(e.causes.map((c) => `${c.source} ${c.field}`)).toEqual([
      'app.yaml#1 spec.template.spec.containers[0].ports[0].containerPort',
      'app.yaml#2 apiVersion',
    ]);
    expect(e.message).toContain('nothing was applied');
  });

  it('puts the default namespace into namespaced documents only', () => {
    const docs = checkDocuments(parseDocuments(`${deploy('a')}---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n`, 'x.yaml'));
    setNamespaces(docs, 'team', false);
    expect((docs[0]?.json.metadata as { namespace?: string }).namespace).toBe('team');
    expect((docs[1]?.json.metadata as { namespace?: string }).namespace).toBeUndefined();
  });

  it('refuses a manifest namespace that contradicts -n', () => {
    const docs = checkDocuments(parseDocuments(deploy('a').replace('  name: a', '  name: a\n  namespace: shop'), 'x.yaml'));
    expect(caught(() => setNamespaces(docs, 'other', true)).message).toContain('does not match');
    setNamespaces(docs, 'other', false);
    expect((docs[0]?.json.metadata as { namespace?: string }).namespace).toBe('shop');
  });
});

describe('loadManifests', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a directory\'s yaml, yml and json files in sorted order, and stdin', async () => {
    await mkdir(join(dir, 'm'));
    await writeFile(join(dir, 'm', 'b.yml'), deploy('b'));
    await writeFile(join(dir, 'm', 'a.yaml'), deploy('a'));
    await writeFile(join(dir, 'm', 'c.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'c' } }));
    await writeFile(join(dir, 'm', 'README.md'), '# not a manifest');
    const docs = await loadManifests([join(dir, 'm'), '-'], () => Promise.resolve(deploy('s')));
    expect(docs.map((d) => d.source)).toEqual([join(dir, 'm', 'a.yaml#1'), join(dir, 'm', 'b.yml#1'), join(dir, 'm', 'c.json#1'), 'stdin#1']);
  });

  it('says which path does not exist', async () => {
    const e = await caughtAsync(loadManifests([join(dir, 'nope.yaml')]));
    expect(e.message).toContain('nope.yaml": no such file or directory');
  });

  it('loads the shipped examples without a problem', async () => {
    const docs = checkDocuments(await loadManifests(['deploy/examples']));
    expect(docs.map((d) => `${d.info.kind}/${String((d.json.metadata as { name: string }).name)}`)).toEqual([
      'Namespace/shop', 'Deployment/frontend', 'Deployment/backend', 'Deployment/crasher', 'Deployment/hello', 'Service/hello',
    ]);
  });
});
