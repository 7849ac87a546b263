import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyMergePatch, mergePatchDiff } from './merge-patch.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

describe('mergePatchDiff', () => {
  it('replaces lists, nulls removed keys and keeps equal parts out', () => {
    const before = { metadata: { labels: { app: 'web', extra: 'x' } }, spec: { containers: [{ name: 'a', image: 'v2' }] } };
    const after = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', image: 'v1' }] } };
    expect(mergePatchDiff(before, after)).toEqual({ metadata: { labels: { extra: null } }, spec: { containers: [{ name: 'a', image: 'v1' }] } });
    expect(mergePatchDiff(after, after)).toBeUndefined();
  });

  it('applying the diff to before gives after (property)', () => {
    // Values without nulls: a merge patch cannot express a null value in the target.
    const leaf = fc.oneof(fc.boolean(), fc.integer(), fc.string({ maxLength: 3 }));
    const { value } = fc.letrec<{ value: Json }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), tie('value'), { maxKeys: 4 }),
      ),
    }));
    const obj = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), value, { maxKeys: 4 });
    fc.assert(
      fc.property(obj, obj, (before, after) => {
        const patch = mergePatchDiff(before, after);
        expect(patch === undefined ? before : applyMergePatch(before, patch)).toEqual(after);
      }),
      { numRuns: 300 },
    );
  });
});
