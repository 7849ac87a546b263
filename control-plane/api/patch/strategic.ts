// Kubernetes' strategic merge patch (application/strategic-merge-patch+json) over the JSON
// form of an object: a merge patch, except that the lists Kubernetes gives a merge key are
// merged element by element (merge-keys.ts), and the directives `$patch` (replace, delete,
// merge), `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.
import { errors } from '../../../proto/api/errors.js';
import { schema, type FieldType } from '../../../proto/gen/schema.js';
import { LIST_STRATEGIES, RETAIN_KEYS_FIELDS, type ListStrategy } from './merge-keys.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonMap = { [k: string]: Json };

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

function isMap(v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fieldType(message: string | undefined, field: string): FieldType | undefined {
  return message ? schema[message]?.fields[field] : undefined;
}

function messageRef(t: FieldType | undefined): string | undefined {
  if (!t) return undefined;
  if (t.kind === 'message') return t.ref;
  if (t.kind === 'list') return messageRef(t.item);
  return undefined;
}

/** Applies patch to original (the object's message name guides list merging); returns a new document. */
export function strategicMergePatch(original: unknown, patch: unknown, message: string): Json {
  if (!isMap(patch)) throw errors.badRequest('a strategic merge patch must be a JSON object');
  const out = mergeMap(isMap(original) ? original : {}, patch, message, false);
  return out ?? {};
}

/** Merges patch into original; undefined means "delete this map" ($patch: delete). */
function mergeMap(original: JsonMap, patch: JsonMap, message: string | undefined, retainKeys: boolean): JsonMap | undefined {
  const directive = patch[PATCH];
  if (directive !== undefined) {
    if (directive === 'delete') return undefined;
    if (directive === 'replace') return stripDirectives(patch);
    if (directive !== 'merge') throw errors.badRequest(`unknown $patch directive ${JSON.stringify(directive)}; use replace, delete or merge`);
  }
  const out: JsonMap = { ...original };
  const retain = patch[RETAIN_KEYS];
  if (retain !== undefined) {
    if (!retainKeys) throw errors.badRequest('$retainKeys is only allowed on fields whose patch strategy is retainKeys');
    if (!Array.isArray(retain) || retain.some((k) => typeof k !== 'string')) throw errors.badRequest('$retainKeys must be a list of strings');
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === PATCH || k === RETAIN_KEYS || k.startsWith(SET_ORDER)) continue;
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const field = k.slice(DELETE_PRIMITIVE.length);
      if (!Array.isArray(v)) throw errors.badRequest(`${k} must be a list`);
      const cur = out[field];
      if (Array.isArray(cur)) out[field] = cur.filter((x) => !v.some((d) => equal(d, x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const t = fieldType(message, k);
    const ref = messageRef(t);
    const cur = out[k];
    if (isMap(v)) {
      // A proto map (labels, annotations) has no schema of its own: a plain merge with null deletes.
      const child = t?.kind === 'message' ? ref : undefined;
      const merged = mergeMap(isMap(cur) ? cur : {}, v, child, message ? RETAIN_KEYS_FIELDS.has(`${message}.${k}`) : false);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
      continue;
    }
    if (Array.isArray(v)) {
      const strategy = message ? LIST_STRATEGIES[`${message}.${k}`] : undefined;
      out[k] = strategy ? mergeList(Array.isArray(cur) ? cur : [], v, strategy, ref, k) : stripListDirectives(v);
      continue;
    }
    out[k] = v;
  }
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(SET_ORDER)) continue;
    const field = k.slice(SET_ORDER.length);
    if (!Array.isArray(v)) throw errors.badRequest(`${k} must be a list`);
    const cur = out[field];
    const strategy = message ? LIST_STRATEGIES[`${message}.${field}`] : undefined;
    if (Array.isArray(cur) && strategy) out[field] = reorder(cur, v, strategy.mergeKey);
  }
  return out;
}

function mergeList(original: Json[], patch: Json[], strategy: ListStrategy, itemMessage: string | undefined, field: string): Json[] {
  const key = strategy.mergeKey;
  if (!key) {
    // A set of scalars: the patch's values are added to the original's.
    const out = [...original];
    for (const v of patch) {
      if (isMap(v)) {
        if (v[PATCH] === 'replace') return patch.filter((x) => !isMap(x));
        throw errors.badRequest(`${field}: a list of values cannot hold an object`);
      }
      if (!out.some((x) => equal(x, v))) out.push(v);
    }
    return out;
  }
  if (patch.some((v) => isMap(v) && v[PATCH] === 'replace' && Object.keys(v).length === 1)) {
    return patch.filter((v) => !(isMap(v) && v[PATCH] === 'replace')).map((v) => (isMap(v) ? stripDirectives(v) : v));
  }
  let out = [...original];
  for (const item of patch) {
    if (!isMap(item)) throw errors.badRequest(`${field}: expected objects merged by "${key}", got ${JSON.stringify(item)}`);
    if (!(key in item)) throw errors.badRequest(`${field}: an element of the patch has no merge key "${key}"`);
    const i = out.findIndex((x) => isMap(x) && equal(x[key] ?? null, item[key] ?? null));
    if (item[PATCH] === 'delete') {
      out = out.filter((x) => !(isMap(x) && equal(x[key] ?? null, item[key] ?? null)));
      continue;
    }
    if (i < 0) {
      out.push(stripDirectives(item));
      continue;
    }
    const merged = mergeMap(out[i] as JsonMap, item, itemMessage, strategy.retainKeys ?? false);
    if (merged === undefined) out.splice(i, 1);
    else out[i] = merged;
  }
  return out;
}

/** $setElementOrder: the listed elements in that order first, the others after in their order. */
function reorder(list: Json[], order: Json[], key: string | undefined): Json[] {
  const id = (x: Json): Json => (key && isMap(x) ? (x[key] ?? null) : x);
  const wanted = order.map((o) => (key && isMap(o) ? (o[key] ?? null) : o));
  const listed: Json[] = [];
  for (const w of wanted) {
    const found = list.find((x) => equal(id(x), w));
    if (found !== undefined) listed.push(found);
  }
  return [...listed, ...list.filter((x) => !wanted.some((w) => equal(id(x), w)))];
}

function stripDirectives(m: JsonMap): JsonMap {
  const out: JsonMap = {};
  for (const [k, v] of Object.entries(m)) {
    if (k === PATCH || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE)) continue;
    if (v === null) continue;
    out[k] = isMap(v) ? stripDirectives(v) : Array.isArray(v) ? stripListDirectives(v) : v;
  }
  return out;
}

function stripListDirectives(l: Json[]): Json[] {
  return l.map((v) => (isMap(v) ? stripDirectives(v) : v));
}

function equal(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
