import { describe, expect, it } from 'vitest';
import { cpuMillis, memoryBytes, parseQuantity } from './quantity.js';

describe('quantities', () => {
  it('reads CPU in millicores', () => {
    expect([cpuMillis('100m'), cpuMillis('1'), cpuMillis('0.5'), cpuMillis('2'), cpuMillis(undefined)]).toEqual([100, 1000, 500, 2000, 0]);
  });
  it('reads memory with binary and decimal suffixes', () => {
    expect([memoryBytes('128Mi'), memoryBytes('1Gi'), memoryBytes('1G'), memoryBytes('1e3'), memoryBytes('64')]).toEqual([
      134217728, 1073741824, 1e9, 1000, 64,
    ]);
  });
  it('rejects what is not a quantity', () => {
    expect(parseQuantity('lots')).toBeUndefined();
    expect(parseQuantity('1Qi')).toBeUndefined();
  });
});
