// The fault schedule is a pure function of its options; overlapping schedules never put two
// faults on one lane (target) at once and keep within their concurrency.
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, lanesOf, planFaults, type PlannedFault, type ScheduleOptions } from './schedule.js';

const base: ScheduleOptions = { seed: 4242, durationMs: 30 * 60_000, agents: 4, leaderLeaseMs: 3_000 };

function overlaps(a: PlannedFault, b: PlannedFault): boolean {
  return a.atMs < b.atMs + b.holdMs && b.atMs < a.atMs + a.holdMs;
}

describe('planFaults', () => {
  it('gives the same schedule for the same seed, another for another', () => {
    for (const concurrency of [1, 4]) {
      expect(planFaults({ ...base, concurrency })).toEqual(planFaults({ ...base, concurrency }));
      expect(planFaults({ ...base, concurrency })).not.toEqual(planFaults({ ...base, seed: 4243, concurrency }));
    }
  });

  it('one at a time by default', () => {
    const s = planFaults(base);
    for (let i = 1; i < s.length; i++) expect(s[i]!.atMs).toBeGreaterThan(s[i - 1]!.atMs + s[i - 1]!.holdMs);
  });

  it('overlapping: never two faults on one lane, never more than the concurrency, every kind drawn', () => {
    const s = planFaults({ ...base, concurrency: 4 });
    let most = 0;
    for (const f of s) {
      const live = s.filter((g) => g.atMs <= f.atMs && f.atMs < g.atMs + g.holdMs);
      most = Math.max(most, live.length);
      expect(live.length).toBeLessThanOrEqual(4);
      for (const g of live) {
        if (g === f) continue;
        const shared = lanesOf(f.kind, f.target, f.holdMs).filter((l) => lanesOf(g.kind, g.target, g.holdMs).includes(l));
        expect(shared, `${f.kind}@${f.atMs} and ${g.kind}@${g.atMs}`).toEqual([]);
        expect(overlaps(f, g)).toBe(true);
      }
      expect(f.atMs).toBeLessThan(base.durationMs);
    }
    expect(most).toBeGreaterThan(1);
    expect(new Set(s.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
    // Some nodes stay dead long enough for invariant 6, each with the control planes and etcd left alone.
    expect(s.filter((f) => f.kind === 'kill-agent' && f.holdMs >= 60_000).length).toBeGreaterThan(0);
    // What the long run needs: 1,000+ faults in 30 minutes.
    expect(s.length).toBeGreaterThanOrEqual(1000);
  });
});
