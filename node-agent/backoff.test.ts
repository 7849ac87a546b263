import { describe, expect, it } from 'vitest';
import { backoffMessage, CrashLoopBackoff, formatDuration } from './backoff.js';

describe('CrashLoopBackoff', () => {
  it('restarts at once after the first crash, then doubles from 10 s to the 300 s cap', () => {
    const b = new CrashLoopBackoff();
    const seq = Array.from({ length: 8 }, () => b.afterCrash(1000) / 1000);
    expect(seq).toEqual([0, 10, 20, 40, 80, 160, 300, 300]);
  });

  it('resets after a run of 10 minutes, not after a shorter one', () => {
    const b = new CrashLoopBackoff();
    b.afterCrash(0);
    b.afterCrash(0);
    b.afterCrash(0);
    expect(b.afterCrash(599_999)).toBe(40_000);
    expect(b.afterCrash(600_000)).toBe(0);
    expect(b.afterCrash(0)).toBe(10_000);
  });

  it('never retries a failed start at once', () => {
    const b = new CrashLoopBackoff();
    expect([b.afterFailedStart(), b.afterFailedStart()]).toEqual([10_000, 20_000]);
  });

  it('takes configured bounds', () => {
    const b = new CrashLoopBackoff({ initialMs: 1000, maxMs: 5000, resetAfterMs: 60_000 });
    expect([b.afterCrash(0), b.afterCrash(0), b.afterCrash(0), b.afterCrash(0), b.afterCrash(0), b.afterCrash(0)]).toEqual([0, 1000, 2000, 4000, 5000, 5000]);
    b.reset();
    expect(b.delayMs).toBe(0);
    expect(b.afterCrash(0)).toBe(0);
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
