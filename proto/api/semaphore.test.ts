import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.js';

describe('Semaphore', () => {
  it('never lets more than limit run at once, and runs all in arrival order', async () => {
    const s = new Semaphore(3);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const jobs = Array.from({ length: 10 }, (_, i) => s.run(async () => {
      order.push(i);
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => gates.push(r));
      running--;
      return i * 2;
    }));
    // Release the holders one at a time as they arrive.
    while (order.length < 10 || gates.length) {
      await new Promise((r) => setImmediate(r));
      expect(s.inUse).toBeLessThanOrEqual(3);
      gates.shift()?.();
    }
    expect(await Promise.all(jobs)).toEqual(Array.from({ length: 10 }, (_, i) => i * 2));
    expect(peak).toBe(3);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(s.inUse).toBe(0);
  });

  it('releases the slot when the holder throws', async () => {
    const s = new Semaphore(1);
    await expect(s.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(s.inUse).toBe(0);
    expect(await s.run(() => Promise.resolve('next'))).toBe('next');
  });

  it('idle() resolves only once no holder and no waiter is left', async () => {
    const s = new Semaphore(1);
    await s.idle();
    const gates: (() => void)[] = [];
    const hold = (): Promise<void> => s.run(() => new Promise<void>((r) => gates.push(r)));
    const a = hold();
    const b = hold();
    let idle = false;
    const waiting = s.idle().then(() => (idle = true));
    await new Promise((r) => setImmediate(r));
    gates.shift()?.();
    await a;
    await new Promise((r) => setImmediate(r));
    // b got the slot straight from a: still busy.
    expect(idle).toBe(false);
    expect(s.inUse).toBe(1);
    gates.shift()?.();
    await b;
    await waiting;
    expect(idle).toBe(true);
    expect(s.inUse).toBe(0);
  });

  it('rejects a limit below 1', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});
