// Compose's variable interpolation, applied to every string value of the file (not to keys):
// $VAR, ${VAR}, ${VAR:-default} (unset or empty), ${VAR-default} (unset), ${VAR:?error} /
// ${VAR?error} (fail), ${VAR:+alt} / ${VAR+alt} (alt when set), $$ for a literal $. Defaults
// and alternatives may themselves hold variables (${A:-${B}}). An unset variable without a
// default becomes "" with a warning, as `docker compose` does.
import { ApiError, cause } from '../../proto/api/errors.js';

export type Lookup = (name: string) => string | undefined;

export interface InterpolateResult {
  value: string;
  /** Variables used without a value or default. */
  unset: string[];
}

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;

/** Where a ${...} opened at `start` (index of "{") closes, counting nested braces. */
function closingBrace(s: string, start: number): number {
  let depth = 0;
  for (let i = start; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

export class InterpolationError extends Error {}

/** Interpolates one string; throws InterpolationError for ${VAR?err} and malformed ${...}. */
export function interpolate(s: string, lookup: Lookup): InterpolateResult {
  const unset: string[] = [];
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== '$') {
      out += ch;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(s, i + 1);
      if (end < 0) throw new InterpolationError(`invalid interpolation format for "${s}": no closing "}"`);
      const body = s.slice(i + 2, end);
      out += expand(body, s, lookup, unset);
      i = end;
      continue;
    }
    const m = NAME.exec(s.slice(i + 1));
    if (!m) {
      // A lone "$" (e.g. "$ 5") stays, as Compose leaves it.
      out += '$';
      continue;
    }
    const v = lookup(m[0]);
    if (v === undefined) unset.push(m[0]);
    out += v ?? '';
    i += m[0].length;
  }
  return { value: out, unset };
}

function expand(body: string, whole: string, lookup: Lookup, unset: string[]): string {
  const m = NAME.exec(body);
  if (!m) throw new InterpolationError(`invalid interpolation format for "${whole}": "\${${body}}" needs a variable name`);
  const name = m[0];
  const rest = body.slice(name.length);
  const v = lookup(name);
  if (rest === '') {
    if (v === undefined) unset.push(name);
    return v ?? '';
  }
  const op = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest)?.[0];
  if (!op) throw new InterpolationError(`invalid interpolation format for "${whole}": unexpected "${rest}" after \${${name}`);
  const arg = (): string => {
    const r = interpolate(rest.slice(op.length), lookup);
    unset.push(...r.unset);
    return r.value;
  };
  const empty = v === undefined || v === '';
  switch (op) {
    case ':-': return empty ? arg() : v;
    case '-': return v === undefined ? arg() : v;
    case ':?': if (empty) throw new InterpolationError(`required variable ${name} is missing a value: ${arg()}`); return v;
    case '?': if (v === undefined) throw new InterpolationError(`required variable ${name} is missing a value: ${arg()}`); return v;
    case ':+': return empty ? '' : arg();
    default: return v === undefined ? '' : arg();
  }
}

/**
 * Interpolates every string value of a parsed compose document (recursively); keys stay as
 * written. Errors name the file and the key path. Returns the names used while unset.
 */
export function interpolateTree(doc: unknown, lookup: Lookup, file: string): { value: unknown; unset: string[] } {
  const unset = new Set<string>();
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') {
      try {
        const r = interpolate(v, lookup);
        r.unset.forEach((n) => unset.add(n));
        return r.value;
      } catch (e) {
        if (e instanceof InterpolationError) throw new ApiError('Invalid', `${file}: ${path}: ${e.message}`, [cause(path, e.message, file)]);
        throw e;
      }
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = walk(x, path ? `${path}.${k}` : k);
      return o;
    }
    return v;
  };
  return { value: walk(doc, ''), unset: [...unset] };
}
