import { describe, expect, it } from 'vitest';
import { age, humanDuration } from './age.js';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe('humanDuration (kubectl HumanDuration)', () => {
  it.each([
    ['clock skew of 2s and more is invalid', -2 * s, '<invalid>'],
    ['clock skew under 2s counts as now', -1500, '0s'],
    ['seconds below two minutes', 119 * s, '119s'],
    ['whole minutes below ten', 5 * m, '5m'],
    ['minutes and seconds below ten minutes', 3 * m + 12 * s, '3m12s'],
    ['minutes below three hours', 170 * m, '170m'],
    ['hours and minutes below eight hours', 7 * h + 5 * m, '7h5m'],
    ['whole hours below eight hours', 4 * h, '4h'],
    ['hours below two days', 47 * h, '47h'],
    ['days and hours below eight days', 2 * d + 4 * h, '2d4h'],
    ['whole days below eight days', 3 * d, '3d'],
    ['days below two years', 400 * d, '400d'],
    ['years and days below eight years', 3 * 365 * d + 10 * d, '3y10d'],
    ['years from eight on', 9 * 365 * d, '9y'],
  ])('%s', (_name, ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });

  it('ages a timestamp, and says <unknown> without one', () => {
    const now = Date.parse('2026-01-01T01:00:00Z');
    expect(age('2026-01-01T00:59:30Z', now)).toBe('30s');
    expect(age('', now)).toBe('<unknown>');
    expect(age('yesterday', now)).toBe('<invalid>');
  });
});
