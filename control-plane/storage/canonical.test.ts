import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalEqual, canonicalJson } from './canonical.js';

// Values shaped like API objects: nested maps and lists, optional (undefined) fields, bytes
// (non-empty: canonicalJson writes bytes as base64 text, so empty bytes and '' read alike there;
// no field of a message is a string in one object and bytes in another).
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.constantFrom(undefined, null, 0, 1, '', 'a', true, false), fc.uint8Array({ minLength: 1, maxLength: 2 })),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('node'), { maxKeys: 3 })),
})).node;

/** The same value with every object's keys in reverse order. */
function reordered(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map(reordered);
  return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reordered(x)]));
}

describe('canonicalEqual', () => {
  it('agrees with comparing canonicalJson texts', () => {
    fc.assert(fc.property(value, value, (a, b) => canonicalEqual(a, b) === (canonicalJson(a) === canonicalJson(b))), { numRuns: 20000 });
  });

  it('ignores key order and absent-vs-undefined keys, not null-vs-absent', () => {
    fc.assert(fc.property(value, (a) => canonicalEqual(a, reordered(a))));
    expect(canonicalEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(canonicalEqual({ a: null }, {})).toBe(false);
    // Found by the property above: null on one side, undefined on the other, same key count.
    expect(canonicalEqual({ c: null }, { a: '', c: undefined })).toBe(false);
    expect(canonicalEqual({ a: { x: [1, 2] } }, { a: { x: [2, 1] } })).toBe(false);
  });
});
