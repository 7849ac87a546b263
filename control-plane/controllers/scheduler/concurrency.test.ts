import { describe, expect, it } from 'vitest';
import { mapSettledLimit } from './concurrency.js';

describe('mapSettledLimit', () => {
  it('keeps order, never exceeds the limit and runs everything', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapSettledLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(3);
  });

  it('rethrows the first failure only after every call settled', async () => {
    const done: number[] = [];
    await expect(
      mapSettledLimit([1, 2, 3, 4], 2, async (n) => {
        await new Promise((r) => setImmediate(r));
        if (n === 1) throw new Error('boom 1');
        done.push(n);
        return n;
      }),
    ).rejects.toThrow('boom 1');
    expect(done.sort()).toEqual([2, 3, 4]);
  });
});
