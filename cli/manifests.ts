// Reads manifests for `apply -f` and `delete -f`: files, directories (their *.yaml, *.yml and
// *.json, sorted) and stdin ("-"), each holding one or more YAML documents. A syntax error
// names the file, line and column; every document is checked with the same codec the server
// uses, so unknown kinds and wrong types are reported before anything is sent.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { ApiError, cause, isApiError } from '../proto/api/errors.js';
import type { FieldCause } from '../proto/gen/skiff/v1/api.js';
import { fromManifest, type JsonObject } from '../proto/api/manifest.js';
import type { AnyObject, KindInfo } from '../proto/api/kinds.js';

export interface ManifestDoc {
  /** "file#n", n counting documents from 1 within the file. */
  source: string;
  json: JsonObject;
}

export interface CheckedDoc extends ManifestDoc {
  info: KindInfo;
  object: AnyObject;
}

const EXTENSIONS = ['.yaml', '.yml', '.json'];

export type ReadStdin = () => Promise<string>;

export async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Expands each -f argument into the files it names, in order. */
export async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push(p);
      continue;
    }
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ApiError('BadRequest', `cannot read "${p}": ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    if (st.isDirectory()) {
      const names = (await readdir(p)).filter((n) => EXTENSIONS.some((x) => n.endsWith(x))).sort();
      if (names.length === 0) throw new ApiError('BadRequest', `directory "${p}" holds no *.yaml, *.yml or *.json file`);
      out.push(...names.map((n) => join(p, n)));
    } else out.push(p);
  }
  return out;
}

/** Parses one file's text into its non-empty documents; a "List" document is expanded. */
export function parseDocuments(text: string, file: string): ManifestDoc[] {
  const lines = new LineCounter();
  // YAML 1.1 as kubectl reads manifests (go-yaml v2): `defaultMode: 0400` is octal 256, not 400.
  const docs = parseAllDocuments(text, { prettyErrors: false, lineCounter: lines, version: '1.1' });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: ManifestDoc[] = [];
  const problems: FieldCause[] = [];
  list.forEach((doc, i) => {
    const source = `${file}#${i + 1}`;
    for (const err of doc.errors) {
      const pos = lines.linePos(err.pos[0]);
      const where = `${file}:${pos.line}:${pos.col}`;
      problems.push(cause('', err.message.split('\n')[0] ?? err.message, where));
    }
    if (doc.errors.length > 0) return;
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return; // an empty document, as after a trailing ---
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push(cause('(document)', `expected a mapping (an object with apiVersion and kind), got ${Array.isArray(value) ? 'a list' : typeof value}`, source));
      return;
    }
    const obj = value as JsonObject;
    if (obj.kind === 'List' && Array.isArray(obj.items)) {
      obj.items.forEach((item, j) => {
        if (typeof item === 'object' && item !== null && !Array.isArray(item)) out.push({ source: `${source}.items[${j}]`, json: item });
        else problems.push(cause(`items[${j}]`, 'expected an object', source));
      });
      return;
    }
    out.push({ source, json: obj });
  });
  if (problems.length > 0) {
    throw new ApiError('Invalid', `cannot parse ${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, problems);
  }
  return out;
}

/** Reads every -f argument into documents, in order. */
export async function loadManifests(paths: readonly string[], readStdin: ReadStdin = readAllStdin): Promise<ManifestDoc[]> {
  const files = await expandPaths(paths);
  const out: ManifestDoc[] = [];
  for (const f of files) {
    const text = f === '-' ? await readStdin() : await readFile(f, 'utf8');
    out.push(...parseDocuments(text, f === '-' ? 'stdin' : f));
  }
  if (out.length === 0) throw new ApiError('BadRequest', `no objects passed to apply (read ${files.join(', ')})`);
  return out;
}

/**
 * Puts the default namespace into namespaced documents that have none, and refuses a document
 * whose namespace differs from one given explicitly with -n, as kubectl does.
 */
export function setNamespaces(docs: CheckedDoc[], namespace: string, explicit: boolean): void {
  for (const d of docs) {
    if (!d.info.namespaced) continue;
    const meta = (d.json.metadata ?? {}) as JsonObject;
    const ns = typeof meta.namespace === 'string' ? meta.namespace : '';
    if (ns && explicit && ns !== namespace) {
      throw new ApiError(
        'BadRequest',
        `${d.source}: the namespace from the provided object "${ns}" does not match the namespace "${namespace}"; remove -n or the namespace in the manifest`,
      );
    }
    if (!ns) d.json = { ...d.json, metadata: { ...meta, namespace } };
  }
}

/** Runs the manifest codec on every document; throws one Invalid error listing all problems. */
export function checkDocuments(docs: readonly ManifestDoc[]): CheckedDoc[] {
  const out: CheckedDoc[] = [];
  const problems: FieldCause[] = [];
  let first: ApiError | undefined;
  for (const d of docs) {
    try {
      const { info, object } = fromManifest(d.json, d.source);
      out.push({ ...d, info, object });
    } catch (e) {
      if (!isApiError(e)) throw e;
      first ??= e;
      problems.push(...(e.causes.length ? e.causes : [cause('', e.message, d.source)]));
    }
  }
  if (first && problems.length > 0) {
    if (docs.length === 1 || problems.length === first.causes.length) throw first;
    throw new ApiError('Invalid', `${problems.length} problem${problems.length === 1 ? '' : 's'} in the manifests; nothing was applied`, problems);
  }
  return out;
}
