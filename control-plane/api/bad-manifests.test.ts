// The corpus of bad manifests (test/fixtures/bad-manifests, shared with the CLI tests): each
// must be refused with exactly the expected field paths and sources, and leave etcd unchanged.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ApiError } from '../../proto/api/errors.js';
import { testStore, type TestStore } from '../../test/helpers/etcd-client.js';
import { startTestServer, type TestServer } from './testing.js';

const DIR = join(import.meta.dirname, '../../test/fixtures/bad-manifests');
type Expected = { stage: 'yaml' } | { stage: 'api'; causes: [string, string][] };
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Record<string, Expected>;
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

let ts: TestStore;
let srv: TestServer;
beforeAll(async () => {
  ts = testStore();
  srv = await startTestServer(ts.store);
});
afterAll(async () => {
  await srv.stop();
  await ts.close();
});

async function snapshot(): Promise<string> {
  const kvs = await ts.client.getAll().prefix(`${ts.prefix}/`).exec();
  return JSON.stringify(kvs.kvs.map((kv) => [kv.key.toString(), kv.mod_revision]));
}

describe('bad manifests', () => {
  it('has an expectation for every file', () => {
    expect(Object.keys(expected).filter((k) => !k.startsWith('_')).sort()).toEqual(files);
  });

  it.each(files)('%s is refused with every bad field and nothing is written', async (file) => {
    const want = expected[file]!;
    const docs = parseAllDocuments(readFileSync(join(DIR, file), 'utf8'));
    const docList = Array.isArray(docs) ? docs : [docs];
    const yamlErrors = docList.flatMap((d) => d.errors);
    if (want.stage === 'yaml') {
      expect(yamlErrors.length).toBeGreaterThan(0);
      return;
    }
    expect(yamlErrors).toEqual([]);
    const before = await snapshot();
    const err = await srv.api
      .apply({ documents: docList.map((d, i) => ({ manifest: JSON.stringify(d.toJSON()), source: `${file}#${i + 1}` })) })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.code).toBe('Invalid');
    expect(e.causes.map((c) => [c.source, c.field])).toEqual(want.causes);
    for (const c of e.causes) expect(c.message).not.toBe('');
    expect(await snapshot()).toBe(before);
  });
});
