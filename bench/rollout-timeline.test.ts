import { describe, expect, it } from 'vitest';
import { rolloutTimeline, timelineSummary, type PodLife, type RsMark } from './rollout-timeline.js';

// One wave of 2 by hand, t0 = 1000: old 2 -> 0 at 1010, its pods terminating at 1030, the new
// ReplicaSet 0 -> 2 at 1050, pods created 1060 and 1080, scheduled +20, Running reported at
// 1500 / 1700, counted available at 1550 / 1760.
const rs: RsMark[] = ([
  { at: 900, side: 'old', spec: 2, replicas: 2, available: 2 },
  { at: 1010, side: 'old', spec: 0, replicas: 2, available: 2 },
  { at: 1040, side: 'old', spec: 0, replicas: 0, available: 0 },
  { at: 1005, side: 'new', spec: 0, replicas: 0, available: 0 },
  { at: 1050, side: 'new', spec: 2, replicas: 0, available: 0 },
  { at: 1550, side: 'new', spec: 2, replicas: 2, available: 1 },
  { at: 1760, side: 'new', spec: 2, replicas: 2, available: 2 },
] satisfies RsMark[]).sort((a, b) => a.at - b.at);
const pods: PodLife[] = [
  { side: 'old', terminating: 1030, tornDown: 1400, deleted: 1420 },
  { side: 'old', terminating: 1030, tornDown: 1600, deleted: 1610 },
  { side: 'new', created: 1060, scheduled: 1080, runningReported: 1500, clientRunning: 1510 },
  { side: 'new', created: 1080, scheduled: 1100, runningReported: 1700, clientRunning: 1705 },
];

describe('rolloutTimeline', () => {
  const t = rolloutTimeline(1000, 1800, rs, pods);

  it('lists each side\'s scale steps after the change', () => {
    expect(t.totalMs).toBe(800);
    expect(t.steps.old).toEqual([[10, 0]]);
    expect(t.steps.new).toEqual([[5, 0], [50, 2]]);
  });

  it('splits the new pods\' time at each step', () => {
    expect(t.phases['new: scaled->created']).toMatchObject({ count: 2, p50: 10, max: 30 });
    expect(t.phases['new: created->scheduled']).toMatchObject({ count: 2, p50: 20, max: 20 });
    expect(t.phases['new: scheduled->runningReported']).toMatchObject({ count: 2, p50: 420, max: 600 });
    expect(t.phases['new: runningReported->countedAvailable']).toMatchObject({ count: 2, p50: 50, max: 60 });
    // The old ReplicaSet is already at 0: no later scale-down to wait for.
    expect(t.phases['new: countedAvailable->oldScaledDown']).toBeUndefined();
  });

  it('splits the old pods\' time', () => {
    expect(t.phases['old: scaledDown->terminating']).toMatchObject({ count: 2, p50: 20 });
    expect(t.phases['old: terminating->newScaledUp']).toMatchObject({ count: 2, p50: 20 });
    expect(t.phases['old: terminating->tornDown']).toMatchObject({ count: 2, p50: 370, max: 570 });
    expect(t.phases['old: tornDown->deleted']).toMatchObject({ count: 2, p50: 10, max: 20 });
  });

  it('says it in lines', () => {
    const text = timelineSummary(t);
    expect(text).toContain('rolling update done in 800 ms');
    expect(text).toContain('new ReplicaSet spec@ms: 0@5 2@50');
  });
});
