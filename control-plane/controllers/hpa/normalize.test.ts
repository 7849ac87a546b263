// Kubernetes' cases from horizontal_test.go: TestNormalizeDesiredReplicasWithBehavior
// (stabilization windows and reuse of outdated recommendations) and TestScalingWithRules
// (policy limits and the ScalingLimited reasons).
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP } from './behavior.js';
import {
  emptyMemory, normalizeLegacy, normalizeWithBehavior, storeScaleEvent, type Behavior, type Recommendation, type ScalingRules,
} from './normalize.js';

const NOW = 1_800_000_000_000;
const min = 60_000;

/** Kubernetes' generateScalingRules(pods, podsPeriod, percent, percentPeriod, window); zeros mean the defaults. */
function rules(pods: number, podsPeriod: number, percent: number, percentPeriod: number, window: number, up: boolean): ScalingRules {
  const policies = [];
  if (pods) policies.push({ type: 'Pods', value: pods, periodSeconds: podsPeriod });
  if (percent) policies.push({ type: 'Percent', value: percent, periodSeconds: percentPeriod });
  const d = up ? DEFAULT_SCALE_UP : DEFAULT_SCALE_DOWN;
  return { stabilizationWindowSeconds: window, selectPolicy: 'Max', policies: policies.length ? policies : d.policies };
}

describe('stabilization (TestNormalizeDesiredReplicasWithBehavior)', () => {
  const cases: { name: string; recs: Recommendation[]; current: number; desired: number; stabilized: number; kept: number[]; up?: number; down?: number }[] = [
    { name: 'empty recommendations for scaling down', recs: [], current: 100, desired: 5, stabilized: 5, kept: [5] },
    { name: 'simple scale down stabilization', recs: [{ replicas: 4, atMs: NOW - 2 * min }, { replicas: 5, atMs: NOW - min }], current: 100, desired: 3, stabilized: 5, kept: [4, 5, 3], down: 180 },
    { name: 'simple scale up stabilization', recs: [{ replicas: 4, atMs: NOW - 2 * min }, { replicas: 5, atMs: NOW - min }], current: 1, desired: 7, stabilized: 4, kept: [4, 5, 7], up: 300 },
    { name: 'no scale down stabilization', recs: [{ replicas: 1, atMs: NOW - 2 * min }, { replicas: 5, atMs: NOW - min }], current: 100, desired: 3, stabilized: 3, kept: [1, 5, 3], up: 300 },
    { name: 'no scale up stabilization', recs: [{ replicas: 4, atMs: NOW - 2 * min }, { replicas: 5, atMs: NOW - min }], current: 1, desired: 3, stabilized: 3, kept: [4, 5, 3], down: 300 },
    { name: 'no scale down stabilization, reuse recommendation element', recs: [{ replicas: 10, atMs: NOW - 10 * min }, { replicas: 9, atMs: NOW - 9 * min }], current: 100, desired: 3, stabilized: 3, kept: [10, 3] },
    { name: 'no scale up stabilization, reuse recommendation element', recs: [{ replicas: 10, atMs: NOW - 10 * min }, { replicas: 9, atMs: NOW - 9 * min }], current: 1, desired: 100, stabilized: 100, kept: [10, 100] },
    {
      name: 'scale down stabilization, reuse one of obsolete recommendation element',
      recs: [{ replicas: 10, atMs: NOW - 10 * min }, { replicas: 4, atMs: NOW - min }, { replicas: 5, atMs: NOW - 2 * min }, { replicas: 9, atMs: NOW - 9 * min }],
      current: 100, desired: 3, stabilized: 5, kept: [10, 4, 5, 3], down: 180,
    },
    {
      name: 'scale up stabilization, reuse one of obsolete recommendation element',
      recs: [{ replicas: 10, atMs: NOW - 100 * min }, { replicas: 6, atMs: NOW - min }, { replicas: 5, atMs: NOW - 2 * min }, { replicas: 9, atMs: NOW - 3 * min }],
      current: 1, desired: 100, stabilized: 5, kept: [100, 6, 5, 9], up: 300,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.current} wants ${c.desired} -> ${c.stabilized}`, () => {
      const b: Behavior = {
        // Wide-open policies, so only stabilization shows.
        scaleUp: { stabilizationWindowSeconds: c.up ?? 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1000, periodSeconds: 15 }] },
        scaleDown: { stabilizationWindowSeconds: c.down ?? 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
      };
      const n = normalizeWithBehavior({ ...emptyMemory(), recommendations: c.recs }, b, c.current, c.desired, 1, 1000, NOW);
      expect(n.replicas).toBe(c.stabilized);
      expect(n.memory.recommendations.map((r) => r.replicas)).toEqual(c.kept);
      expect(n.conditions[0]?.reason).toBe(c.stabilized === c.desired ? 'ReadyForNewScale' : c.desired >= c.current ? 'ScaleUpStabilized' : 'ScaleDownStabilized');
    });
  }
});

describe('policies (TestScalingWithRules)', () => {
  const cases: { name: string; up?: ScalingRules; down?: ScalingRules; min?: number; max?: number; current: number; desired: number; expected: number; reason: string }[] = [
    { name: 'scaleUp with default behavior', current: 10, desired: 50, expected: 20, reason: 'ScaleUpLimit' },
    { name: 'scaleUp with pods policy larger than percent policy', up: rules(100, 60, 100, 60, 0, true), current: 10, desired: 500, expected: 110, reason: 'ScaleUpLimit' },
    { name: 'scaleUp with percent policy larger than pods policy', up: rules(2, 60, 100, 60, 0, true), current: 10, desired: 500, expected: 20, reason: 'ScaleUpLimit' },
    { name: 'scaleUp with spec MaxReplicas limitation with large pod policy', up: rules(100, 60, 0, 0, 0, true), current: 10, desired: 50, expected: 50, reason: 'DesiredWithinRange' },
    { name: 'scaleUp with spec MaxReplicas reached', up: rules(100, 60, 0, 0, 0, true), max: 30, current: 10, desired: 50, expected: 30, reason: 'TooManyReplicas' },
    { name: 'scaleUp with pod policy limitation', up: rules(30, 60, 0, 0, 0, true), current: 10, desired: 50, expected: 40, reason: 'ScaleUpLimit' },
    { name: 'scaleUp with percent policy limitation', up: rules(0, 0, 200, 60, 0, true), current: 10, desired: 50, expected: 30, reason: 'ScaleUpLimit' },
    { name: 'scaleDown with percent policy larger than pod policy', down: rules(20, 60, 1, 60, 0, false), current: 100, desired: 2, expected: 80, reason: 'ScaleDownLimit' },
    { name: 'scaleDown with pod policy larger than percent policy', down: rules(2, 60, 1, 60, 0, false), current: 100, desired: 2, expected: 98, reason: 'ScaleDownLimit' },
    { name: 'scaleDown with spec MinReplicas limitation with large pod policy', down: rules(100, 60, 0, 0, 0, false), current: 10, desired: 0, expected: 1, reason: 'TooFewReplicas' },
    { name: 'scaleDown with pod policy limitation', down: rules(5, 60, 0, 0, 0, false), current: 10, desired: 1, expected: 5, reason: 'ScaleDownLimit' },
    { name: 'scaleDown with percent policy limitation', down: rules(0, 0, 50, 60, 0, false), current: 10, desired: 5, expected: 5, reason: 'DesiredWithinRange' },
    { name: 'scaleUp with Min select policy', up: { ...rules(2, 60, 100, 60, 0, true), selectPolicy: 'Min' }, current: 10, desired: 500, expected: 12, reason: 'ScaleUpLimit' },
    { name: 'scaleDown with Min select policy', down: { ...rules(20, 60, 1, 60, 0, false), selectPolicy: 'Min' }, current: 100, desired: 2, expected: 99, reason: 'ScaleDownLimit' },
    { name: 'scaleDown disabled', down: { ...rules(0, 0, 100, 15, 0, false), selectPolicy: 'Disabled' }, current: 10, desired: 2, expected: 10, reason: 'ScaleDownLimit' },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.current} wants ${c.desired} -> ${c.expected} (${c.reason})`, () => {
      const b: Behavior = { scaleUp: c.up ?? { ...DEFAULT_SCALE_UP }, scaleDown: c.down ?? { ...DEFAULT_SCALE_DOWN, stabilizationWindowSeconds: 0 } };
      const n = normalizeWithBehavior(emptyMemory(), b, c.current, c.desired, c.min ?? 1, c.max ?? 1000, NOW);
      expect(n.replicas).toBe(c.expected);
      const limited = n.conditions.find((x) => x.type === 'ScalingLimited');
      expect(limited?.reason).toBe(c.reason);
      expect(limited?.status).toBe(c.expected === c.desired ? 'False' : 'True');
    });
  }

  it('counts replicas already added in the period: +5 within 15 s leaves a 100%/15 s policy no room above 10', () => {
    const b: Behavior = { scaleUp: rules(0, 0, 100, 15, 0, true), scaleDown: { ...DEFAULT_SCALE_DOWN } };
    let mem = storeScaleEvent(emptyMemory(), b, 5, 10, NOW - 5_000);
    expect(normalizeWithBehavior(mem, b, 10, 40, 1, 100, NOW).replicas).toBe(10);
    // Once the event is older than the period the full 100% is back.
    expect(normalizeWithBehavior(mem, b, 10, 40, 1, 100, NOW + 15_000).replicas).toBe(20);
    // An outdated event's slot is reused rather than the list growing.
    mem = storeScaleEvent(mem, b, 10, 20, NOW + 30_000);
    expect(mem.scaleUpEvents).toEqual([{ change: 10, atMs: NOW + 30_000, outdated: false }]);
  });

  it('scales down only after the default 300 s window: the highest recommendation of the window holds', () => {
    const b: Behavior = { scaleUp: { ...DEFAULT_SCALE_UP }, scaleDown: { ...DEFAULT_SCALE_DOWN } };
    let mem = emptyMemory();
    let n = normalizeWithBehavior(mem, b, 4, 4, 1, 10, NOW);
    mem = n.memory;
    n = normalizeWithBehavior(mem, b, 4, 1, 1, 10, NOW + 60_000);
    expect([n.replicas, n.conditions[0]?.reason]).toEqual([4, 'ScaleDownStabilized']);
    n = normalizeWithBehavior(n.memory, b, 4, 1, 1, 10, NOW + 301_000);
    expect(n.replicas).toBe(1);
  });
});

describe('without spec.behavior (normalizeDesiredReplicas)', () => {
  it('limits a scale-up to max(2x, 4) with ScaleUpLimit', () => {
    const n = normalizeLegacy(emptyMemory(), 3, 20, 1, 100, NOW);
    expect(n.replicas).toBe(6);
    expect(n.conditions[1]).toMatchObject({ type: 'ScalingLimited', status: 'True', reason: 'ScaleUpLimit' });
  });
  it('keeps the highest recommendation of the last 5 minutes', () => {
    const mem = { ...emptyMemory(), recommendations: [{ replicas: 8, atMs: NOW - 4 * min }, { replicas: 9, atMs: NOW - 6 * min }] };
    const n = normalizeLegacy(mem, 8, 2, 1, 100, NOW);
    expect(n.replicas).toBe(8);
    expect(n.conditions[0]?.reason).toBe('ScaleDownStabilized');
    expect(n.memory.recommendations.map((r) => r.replicas)).toEqual([8, 2]);
  });
  it('TooFewReplicas below minReplicas, TooManyReplicas above maxReplicas', () => {
    expect(normalizeLegacy(emptyMemory(), 5, 1, 3, 10, NOW).conditions[1]?.reason).toBe('TooFewReplicas');
    expect(normalizeLegacy(emptyMemory(), 8, 12, 1, 10, NOW)).toMatchObject({ replicas: 10, conditions: [{}, { reason: 'TooManyReplicas', status: 'True' }] });
  });
});
