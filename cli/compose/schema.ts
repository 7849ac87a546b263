// Validation against the official Compose specification schema (schema/compose-spec.json,
// draft-07) with ajv. Errors name the key path the way people read a compose file
// (services.web.ports[0]) and say what was wrong; oneOf/anyOf noise is reduced to the most
// specific message per path.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import schema from './schema/compose-spec.json' with { type: 'json' };
import type { Diagnostic } from './keys.js';

let validator: ValidateFunction | undefined;

function compiled(): ValidateFunction {
  // strict off: the schema uses annotation keywords (deprecated, x-*) ajv's strict mode flags.
  // Its $schema is written "https://json-schema.org/draft-07/schema", not the meta-schema id
  // ajv registers for draft-07, so the schema itself is not validated against it.
  validator ??= new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile(schema);
  return validator;
}

/** "/services/web/ports/0" -> "services.web.ports[0]". */
export function keyPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

function message(e: ErrorObject): { path: string; text: string } {
  const path = keyPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      return { path: path ? `${path}.${key}` : key, text: `additional property "${key}" is not allowed by the Compose specification` };
    }
    case 'type':
      return { path, text: `must be ${String(p.type).replace(',', ' or ')}` };
    case 'enum':
      return { path, text: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'required':
      return { path, text: `"${String(p.missingProperty)}" is required` };
    case 'uniqueItems':
      return { path, text: 'must not repeat items' };
    case 'pattern':
      return { path, text: `must match ${String(p.pattern)}` };
    default:
      return { path, text: e.message ?? e.keyword };
  }
}

/** Schema errors of a parsed (interpolated) compose document; [] when valid. */
export function validateSchema(doc: unknown): Diagnostic[] {
  const v = compiled();
  if (v(doc)) return [];
  const errors = v.errors ?? [];
  // A failed oneOf reports each branch's complaint plus its own; keep the concrete ones and,
  // per path, drop the generic "must match exactly one schema in oneOf" when others exist.
  const concrete = errors.filter((e) => !['oneOf', 'anyOf', 'if', 'not'].includes(e.keyword));
  const chosen = concrete.length ? concrete : errors;
  const byPath = new Map<string, string[]>();
  for (const e of chosen) {
    const m = message(e);
    const list = byPath.get(m.path) ?? [];
    if (!list.includes(m.text)) list.push(m.text);
    byPath.set(m.path, list);
  }
  // A path whose ancestor has an additional-property error is the same mistake seen again.
  const out: Diagnostic[] = [];
  for (const [path, texts] of byPath) {
    const types = texts.filter((t) => t.startsWith('must be ') && !t.startsWith('must be one of'));
    const rest = texts.filter((t) => !types.includes(t));
    const merged = types.length > 1 ? [`must be ${types.map((t) => t.slice(8)).join(' or ')}`, ...rest] : texts;
    out.push({ level: 'error', path: path || '(top level)', message: merged.join('; ') });
  }
  return out;
}
