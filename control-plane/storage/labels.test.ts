import { describe, expect, it } from 'vitest';
import { ApiError } from '../../proto/api/errors.js';
import { formatSelector, matches, parseLabelSelector, selectorMatches } from './labels.js';

describe('label selectors', () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ['app=web', { app: 'web' }, true],
    ['app==web', { app: 'web', x: 'y' }, true],
    ['app=web', { app: 'db' }, false],
    ['app!=web', {}, true],
    ['app!=web', { app: 'web' }, false],
    ['tier in (a, b)', { tier: 'b' }, true],
    ['tier in (a,b)', { tier: 'c' }, false],
    ['tier notin (a,b)', { tier: 'c' }, true],
    ['tier notin (a,b)', {}, true],
    ['canary', { canary: '' }, true],
    ['!canary', { canary: 'x' }, false],
    ['app=web,!canary,tier in (fe)', { app: 'web', tier: 'fe' }, true],
    ['', { any: 'thing' }, true],
  ];
  for (const [sel, labels, want] of cases) {
    it(`"${sel}" on ${JSON.stringify(labels)} -> ${want}`, () => {
      expect(matches(parseLabelSelector(sel), labels)).toBe(want);
    });
  }

  it('rejects malformed selectors with a BadRequest naming the selector', () => {
    for (const bad of ['app=', 'tier in a', 'tier in (a', '=x', 'a b']) {
      let err: unknown;
      try {
        parseLabelSelector(bad);
      } catch (e) {
        err = e;
      }
      if (bad === 'app=') {
        expect(err).toBeUndefined(); // empty value is legal in Kubernetes
        continue;
      }
      expect(err, bad).toBeInstanceOf(ApiError);
      expect((err as ApiError).message).toContain(bad);
    }
  });

  it('matches LabelSelector messages and formats them back', () => {
    const sel = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] };
    expect(selectorMatches(sel, { app: 'web', tier: 'fe' })).toBe(true);
    expect(selectorMatches(sel, { app: 'web', tier: 'db' })).toBe(false);
    expect(formatSelector(sel)).toBe('app=web,tier notin (db)');
  });
});
