import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([['30s', 30_000], ['5m', 300_000], ['1h30m', 5_400_000], ['250ms', 250], ['0', 0], ['1.5s', 1500], ['90', 90_000]])('%s', (t, ms) => {
    expect(parseDuration(t)).toBe(ms);
  });
  it.each(['', 'soon', '5x', 'm5', '5m junk'])('refuses "%s"', (t) => {
    expect(() => parseDuration(t, '--timeout')).toThrow('invalid --timeout');
  });
});
