import { describe, expect, it } from 'vitest';
import { parseQuantity, QuantityError, toBytes, toMilli } from './quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['100m', 0.1, 100, 1],
    ['1', 1, 1000, 1],
    ['0.5', 0.5, 500, 1],
    ['1.5', 1.5, 1500, 2],
    ['250m', 0.25, 250, 1],
    ['1e3', 1000, 1_000_000, 1000],
    ['2E2', 200, 200_000, 200],
    ['128Mi', 128 * 2 ** 20, 128 * 2 ** 20 * 1000, 128 * 2 ** 20],
    ['1Gi', 2 ** 30, 2 ** 30 * 1000, 2 ** 30],
    ['1G', 1e9, 1e12, 1e9],
    ['64k', 64_000, 64_000_000, 64_000],
    ['1Ki', 1024, 1_024_000, 1024],
    ['.5', 0.5, 500, 1],
    ['1u', 1e-6, 1, 1],
  ])('%s is %d', (text, value, milli, bytes) => {
    const q = parseQuantity(text);
    expect(q.value).toBeCloseTo(value, 9);
    expect(toMilli(q)).toBe(milli);
    expect(toBytes(q)).toBe(bytes);
  });

  it.each(['', '1.2.3', 'abc', '10 m', '1mi', '1KiB', '1e', 'Mi', ' 1', '--1', '1,5'])('rejects %j with a clear message', (text) => {
    expect(() => parseQuantity(text)).toThrow(QuantityError);
    expect(() => parseQuantity(text)).toThrow(/is not a quantity: use a number with an optional suffix/);
  });
});
