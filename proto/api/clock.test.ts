import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock, realClock, sleep } from './clock.js';

describe('ManualClock', () => {
  it('fires due timers in time order, each at its own due time, ties in the order set', () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push('late'), 100);
    clock.advance(50);
    expect(fired).toEqual(['a@1010', 'b@1020', 'c@1020']);
    expect(clock.now()).toBe(1050);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.pendingDelays()).toEqual([50]);
    expect(clock.delays).toEqual([20, 10, 20, 100]);
  });

  it('fires timers set by a firing timer when they fall due within the same advance', () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 5);
    }, 5);
    clock.advance(12);
    expect(fired).toEqual([5, 10]);
  });

  it('does not fire a cancelled timer', () => {
    const clock = new ManualClock(0);
    let fired = false;
    clock.setTimeout(() => (fired = true), 1).cancel();
    clock.advance(10);
    expect(fired).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('sleep', () => {
  it('resolves when the clock reaches the delay', async () => {
    const clock = new ManualClock(0);
    let done = false;
    const p = sleep(clock, 100).then(() => (done = true));
    clock.advance(99);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(1);
    await p;
    expect(done).toBe(true);
  });

  it('resolves at once on abort and leaves no timer behind', async () => {
    const clock = new ManualClock(0);
    const ac = new AbortController();
    const p = sleep(clock, 100, ac.signal);
    ac.abort();
    await p;
    expect(clock.pendingTimers).toBe(0);
    await sleep(clock, 100, ac.signal);
  });

  it('resolves on the real clock', async () => {
    await expect(sleep(realClock, 1)).resolves.toBeUndefined();
  });
});

describe('realClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits out a delay longer than Node timers take (2^31-1 ms) instead of firing at once', () => {
    vi.useFakeTimers();
    const fired: number[] = [];
    const day = 24 * 3600 * 1000;
    realClock.setTimeout(() => fired.push(Date.now()), 300 * day);
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(300 * day - 1000 - 1);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toHaveLength(1);
  });

  it('cancels a long delay at any step', () => {
    vi.useFakeTimers();
    let fired = false;
    const t = realClock.setTimeout(() => (fired = true), 60 * 24 * 3600 * 1000);
    vi.advanceTimersByTime(30 * 24 * 3600 * 1000);
    t.cancel();
    vi.advanceTimersByTime(60 * 24 * 3600 * 1000);
    expect(fired).toBe(false);
  });
});
