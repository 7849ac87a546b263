// Converts between the Kubernetes JSON form of an object (what manifests, `-o yaml` and JSON
// patches use) and the generated messages, by walking proto/gen/schema.ts. Unknown fields and
// wrong types are reported with their exact field path instead of being dropped silently.
import { schema, type FieldType } from '../gen/schema.js';
import { errors, cause } from './errors.js';
import type { FieldCause } from '../gen/skiff/v1/api.js';
import { KIND_NAMES, KINDS, lookupKind, type AnyObject, type KindInfo } from './kinds.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

const INT_OR_STRING = 'skiff.v1.IntOrString';
const INT32_MAX = 2 ** 31 - 1;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (isPlainObject(v)) return 'object';
  return typeof v;
}

function defaultOf(t: FieldType): unknown {
  switch (t.kind) {
    case 'list':
      return [];
    case 'map':
      return {};
    case 'message':
      return undefined;
    default:
      if (t.optional) return undefined;
      if (t.kind === 'string') return '';
      if (t.kind === 'bool') return false;
      if (t.kind === 'bytes') return new Uint8Array();
      return 0;
  }
}

/** A message with every field at its proto3 default, as the generated decode would give. */
export function emptyMessage(name: string): Record<string, unknown> {
  const s = schema[name];
  if (!s) throw new Error(`no schema for ${name}`);
  const out: Record<string, unknown> = {};
  for (const [k, t] of Object.entries(s.fields)) out[k] = defaultOf(t);
  return out;
}

class Reader {
  readonly causes: FieldCause[] = [];
  constructor(private readonly source: string) {}

  fail(path: string, message: string): undefined {
    this.causes.push(cause(path, message, this.source));
    return undefined;
  }

  message(name: string, v: unknown, path: string): Record<string, unknown> | undefined {
    if (!isPlainObject(v)) return this.fail(path || '(document)', `expected an object, got ${typeName(v)}`);
    const s = schema[name];
    if (!s) throw new Error(`no schema for ${name}`);
    const out = emptyMessage(name);
    for (const [k, raw] of Object.entries(v)) {
      const t = s.fields[k];
      const p = path ? `${path}.${k}` : k;
      if (!t) {
        this.fail(p, `unknown field "${k}"`);
        continue;
      }
      if (raw === null || raw === undefined) continue; // Kubernetes strips nulls
      const val = this.field(t, raw, p);
      if (val !== undefined) out[k] = val;
    }
    return out;
  }

  field(t: FieldType, v: unknown, path: string): unknown {
    switch (t.kind) {
      case 'list': {
        if (!Array.isArray(v)) return this.fail(path, `expected a list, got ${typeName(v)}`);
        const items: unknown[] = [];
        v.forEach((item, i) => {
          const p = `${path}[${i}]`;
          if (item === null) return this.fail(p, 'null is not allowed in a list');
          const x = this.field(t.item, item, p);
          if (x !== undefined) items.push(x);
        });
        return items;
      }
      case 'map': {
        if (!isPlainObject(v)) return this.fail(path, `expected a map, got ${typeName(v)}`);
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) {
          const val = this.field(t.value, x, `${path}[${k}]`);
          if (val !== undefined) out[k] = val;
        }
        return out;
      }
      case 'message':
        if (t.ref === INT_OR_STRING) {
          if (typeof v === 'number' && Number.isInteger(v)) return { type: 0, intVal: v, strVal: '' };
          if (typeof v === 'string') return { type: 1, intVal: 0, strVal: v };
          return this.fail(path, `expected an integer or a string, got ${typeName(v)}`);
        }
        return this.message(t.ref, v, path);
      case 'string':
        return typeof v === 'string' ? v : this.fail(path, `expected a string, got ${typeName(v)} ${JSON.stringify(v)}`);
      case 'bool':
        return typeof v === 'boolean' ? v : this.fail(path, `expected true or false, got ${typeName(v)} ${JSON.stringify(v)}`);
      case 'bytes':
        // Strict standard base64 as Kubernetes' JSON decoding: Buffer.from alone skips bad characters.
        if (typeof v !== 'string') return this.fail(path, `expected a base64 string, got ${typeName(v)}`);
        if (v.length % 4 !== 0 || !BASE64.test(v)) return this.fail(path, 'illegal base64 data: expected standard base64 with padding');
        return new Uint8Array(Buffer.from(v, 'base64'));
      case 'double':
        return typeof v === 'number' ? v : this.fail(path, `expected a number, got ${typeName(v)}`);
      default: {
        if (typeof v !== 'number' || !Number.isInteger(v)) {
          return this.fail(path, `expected an integer, got ${typeName(v)} ${JSON.stringify(v)}`);
        }
        if ((t.kind === 'int32' && Math.abs(v) > INT32_MAX) || (t.kind.startsWith('uint') && v < 0)) {
          return this.fail(path, `${v} is out of range for ${t.kind}`);
        }
        return v;
      }
    }
  }
}

export interface ParsedManifest {
  info: KindInfo;
  object: AnyObject;
}

export function supportedKindsText(): string {
  return KIND_NAMES.map((k) => `${KINDS[k].apiVersion} ${k}`).join(', ');
}

/**
 * Reads one Kubernetes-shaped document into its generated message. Throws ApiError Invalid
 * (or BadRequest for an unknown kind) naming every bad field; nothing is partially converted.
 */
export function fromManifest(doc: unknown, source = ''): ParsedManifest {
  if (!isPlainObject(doc)) {
    throw errors.invalid('', '', [cause('(document)', `expected an object, got ${typeName(doc)}`, source)]);
  }
  const { apiVersion, kind } = doc;
  const name = isPlainObject(doc.metadata) && typeof doc.metadata.name === 'string' ? doc.metadata.name : '';
  const missing: FieldCause[] = [];
  if (typeof kind !== 'string' || kind === '') missing.push(cause('kind', 'required', source));
  if (typeof apiVersion !== 'string' || apiVersion === '') missing.push(cause('apiVersion', 'required', source));
  if (missing.length > 0) throw errors.invalid(typeof kind === 'string' ? kind : '', name, missing);
  const info = lookupKind(kind as string);
  if (!info || info.kind !== kind) {
    throw errors.invalid(kind as string, name, [
      cause('kind', `unknown kind "${String(kind)}"; supported: ${supportedKindsText()}`, source),
    ]);
  }
  if (!info.acceptedVersions.includes(apiVersion as string)) {
    throw errors.invalid(info.kind, name, [
      cause(
        'apiVersion',
        `${info.kind} is served as apiVersion ${info.acceptedVersions.join(' or ')}, not "${String(apiVersion)}"`,
        source,
      ),
    ]);
  }
  const r = new Reader(source);
  const out = r.message(info.message, doc, '');
  if (r.causes.length > 0 || !out) throw errors.invalid(info.kind, name, r.causes);
  out.apiVersion = info.apiVersion;
  return { info, object: out as unknown as AnyObject };
}

/** Reads a document that must be of a known kind (used by patch on the JSON form). */
export function fromManifestAs(info: KindInfo, doc: unknown, source = ''): AnyObject {
  const parsed = fromManifest(doc, source);
  if (parsed.info.kind !== info.kind) throw errors.badRequest(`expected ${info.kind}, got ${parsed.info.kind}`);
  return parsed.object;
}

// Fields Kubernetes prints even at their zero value.
const ALWAYS_SHOWN = new Set(['skiff.v1.ContainerStatus.ready', 'skiff.v1.ContainerStatus.restartCount',
  'skiff.v1.ContainerStateTerminated.exitCode']);

function writeField(t: FieldType, v: unknown): Json | undefined {
  switch (t.kind) {
    case 'list': {
      const arr = (v as unknown[]).map((x) => element(t.item, x));
      return arr.length ? arr : undefined;
    }
    case 'map': {
      const entries = Object.entries(v as Record<string, unknown>);
      if (!entries.length) return undefined;
      const out: JsonObject = {};
      for (const [k, x] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[k] = element(t.value, x);
      return out;
    }
    case 'message': {
      if (v === undefined || v === null) return undefined;
      if (t.ref === INT_OR_STRING) {
        const ios = v as { type: number; intVal: number; strVal: string };
        return ios.type === 1 ? ios.strVal : ios.intVal;
      }
      return writeMessage(t.ref, v as Record<string, unknown>, true);
    }
    case 'bytes':
      return (v as Uint8Array).length ? Buffer.from(v as Uint8Array).toString('base64') : undefined;
    default:
      if (v === undefined || v === null) return undefined;
      if (!t.optional && (v === '' || v === 0 || v === false)) return undefined;
      return v as Json;
  }
}

// List items and map values keep zero values: `""` in a label or an args list is data.
function element(t: FieldType, v: unknown): Json {
  if (t.kind === 'bytes') return Buffer.from(v as Uint8Array).toString('base64');
  if (t.kind === 'message' || t.kind === 'list' || t.kind === 'map') return writeField(t, v) ?? {};
  return v as Json;
}

function writeMessage(name: string, v: Record<string, unknown>, nested: boolean): JsonObject | undefined {
  const s = schema[name];
  if (!s) throw new Error(`no schema for ${name}`);
  const out: JsonObject = {};
  for (const [k, t] of Object.entries(s.fields)) {
    const val = v[k];
    let w = writeField(t, val);
    if (w === undefined && ALWAYS_SHOWN.has(`${name}.${k}`) && val !== undefined) w = val as Json;
    if (w !== undefined) out[k] = w;
  }
  // An empty nested message that was set (e.g. `emptyDir: {}`) must survive the round trip.
  return nested || Object.keys(out).length ? out : undefined;
}

/** The Kubernetes JSON form of an object: zero values omitted, keys in schema order. */
export function toManifest(info: KindInfo, o: AnyObject): JsonObject {
  const out = writeMessage(info.message, o as unknown as Record<string, unknown>, true) ?? {};
  const { apiVersion: _v, kind: _k, ...rest } = out;
  return { apiVersion: info.apiVersion, kind: info.kind, ...rest };
}
