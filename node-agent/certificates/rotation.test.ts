import { describe, expect, it } from 'vitest';
import { renewalDeadline, retryDelayMs } from './rotation.js';

describe('renewalDeadline', () => {
  const from = new Date('2026-01-01T00:00:00Z');
  const to = new Date('2026-01-11T00:00:00Z');
  it.each([
    [0, '2026-01-08T00:00:00.000Z'],
    [0.5, '2026-01-09T00:00:00.000Z'],
    [1, '2026-01-10T00:00:00.000Z'],
  ])('at random %d: 70-90 %% of the lifetime', (r, want) => {
    expect(renewalDeadline(from, to, r).toISOString()).toBe(want);
  });
});

describe('retryDelayMs', () => {
  it('doubles from 2 s to a 5 min ceiling', () => {
    expect([1, 2, 3, 4, 8, 20].map((a) => retryDelayMs(a))).toEqual([2000, 4000, 8000, 16000, 256000, 300000]);
  });
});
