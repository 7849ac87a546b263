import { describe, expect, it } from 'vitest';
import { cpuMillis, memoryBytes, parseQuantity, QuantityError, toBytes, toMilli } from './quantity.js';

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

describe('cpuMillis and memoryBytes (what the node agent hands the runtime)', () => {
  it('reads CPU in millicores', () => {
    expect([cpuMillis('100m'), cpuMillis('1'), cpuMillis('0.5'), cpuMillis('2'), cpuMillis(undefined)]).toEqual([100, 1000, 500, 2000, 0]);
  });
  it('rounds like Kubernetes, not like floating point', () => {
    // 1.1 * 1000 is 1100.0000000000002 in binary floating point.
    expect([cpuMillis('1.1'), cpuMillis('1n'), memoryBytes('0.1')]).toEqual([1100, 1, 1]);
  });
  it('reads memory with binary and decimal suffixes', () => {
    expect([memoryBytes('128Mi'), memoryBytes('1Gi'), memoryBytes('1G'), memoryBytes('1e3'), memoryBytes('64'), memoryBytes('')]).toEqual([
      134217728, 1073741824, 1e9, 1000, 64, 0,
    ]);
  });
  it('reads what is not a quantity as 0', () => {
    expect([cpuMillis('lots'), memoryBytes('1Qi')]).toEqual([0, 0]);
    expect(() => parseQuantity('1Qi')).toThrow(QuantityError);
  });
});
