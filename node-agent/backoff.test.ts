import { describe, expect, it } from 'vitest';
import { backoffMessage, CrashLoopBackoff, formatDuration } from './backoff.js';

describe('CrashLoopBackoff', () => {
  it('doubles from 10 s to the 300 s cap', () => {
    const b = new CrashLoopBackoff();
    const seq = Array.from({ length: 7 }, () => b.next(1000) / 1000);
    expect(seq).toEqual([10, 20, 40, 80, 160, 300, 300]);
  });

  it('resets after a run of 10 minutes, not after a shorter one', () => {
    const b = new CrashLoopBackoff();
    b.next(0);
    b.next(0);
    expect(b.next(599_999)).toBe(40_000);
    expect(b.next(600_000)).toBe(10_000);
    expect(b.next(0)).toBe(20_000);
  });

  it('takes configured bounds', () => {
    const b = new CrashLoopBackoff({ initialMs: 1000, maxMs: 5000, resetAfterMs: 60_000 });
    expect([b.next(0), b.next(0), b.next(0), b.next(0), b.next(0)]).toEqual([1000, 2000, 4000, 5000, 5000]);
    b.reset();
    expect(b.delayMs).toBe(0);
    expect(b.next(0)).toBe(1000);
  });
});

describe('backoff message', () => {
  it('reads like the kubelet', () => {
    expect(backoffMessage(20_000, 'app', 'web-1', 'default', 'u1')).toBe(
      'back-off 20s restarting failed container=app pod=web-1_default(u1)',
    );
    expect(formatDuration(300_000)).toBe('5m0s');
    expect(formatDuration(80_000)).toBe('1m20s');
  });
});
