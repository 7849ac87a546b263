// Table tests of the rollout math: surge/unavailable resolution, proportional scaling and the
// step a rolling update takes from a snapshot.
import { describe, expect, it } from 'vitest';
import type { IntOrString } from '../../../proto/gen/skiff/v1/meta.js';
import { deploymentFixture } from '../runtime/fixtures.js';
import { planRollingStep, planScale } from './rolling.js';
import { rsFor } from './testing.js';
import { computeHash, maxSurge, maxUnavailable, resolveFenceposts } from './util.js';

const int = (n: number): IntOrString => ({ type: 0, intVal: n, strVal: '' });
const pct = (s: string): IntOrString => ({ type: 1, intVal: 0, strVal: s });

describe('resolveFenceposts', () => {
  const cases: [string, IntOrString, IntOrString, number, number, number][] = [
    ['25%/25% of 10: surge rounds up, unavailable down', pct('25%'), pct('25%'), 10, 3, 2],
    ['25%/25% of 1', pct('25%'), pct('25%'), 1, 1, 0],
    ['25%/25% of 4', pct('25%'), pct('25%'), 4, 1, 1],
    ['10%/10% of 4', pct('10%'), pct('10%'), 4, 1, 0],
    ['0/0 becomes unavailable 1', int(0), int(0), 5, 0, 1],
    ['0%/0% becomes unavailable 1', pct('0%'), pct('0%'), 5, 0, 1],
    ['50%/0 of 3', pct('50%'), int(0), 3, 2, 0],
    ['ints as given', int(2), int(1), 10, 2, 1],
    ['100%/100% of 7', pct('100%'), pct('100%'), 7, 7, 7],
  ];
  it.each(cases)('%s', (_name, surge, unavailable, replicas, wantSurge, wantUnavailable) => {
    expect(resolveFenceposts(surge, unavailable, replicas)).toEqual({ surge: wantSurge, unavailable: wantUnavailable });
  });

  it('rejects a malformed percentage', () => {
    expect(() => resolveFenceposts(pct('abc'), int(1), 3)).toThrow(/integer or a percentage/);
  });

  it('maxUnavailable never exceeds replicas and is 0 for Recreate or 0 replicas', () => {
    const d = deploymentFixture('web', { replicas: 3, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 5 } } });
    expect(maxUnavailable(d)).toBe(3);
    expect(maxUnavailable(deploymentFixture('web', { replicas: 0 }))).toBe(0);
    const r = deploymentFixture('web', { replicas: 3, strategy: { type: 'Recreate' } });
    expect(maxUnavailable(r)).toBe(0);
    expect(maxSurge(r)).toBe(0);
  });
});

describe('computeHash', () => {
  it('is stable across field order, changes with the template and the collision count', () => {
    const a = deploymentFixture('web').spec!.template!;
    const b = JSON.parse(JSON.stringify({ spec: a.spec, metadata: a.metadata })) as typeof a;
    expect(computeHash(a)).toBe(computeHash(b));
    expect(computeHash(a)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(computeHash(a, 1)).not.toBe(computeHash(a));
    expect(computeHash(deploymentFixture('web', { image: 'busybox:2' }).spec!.template)).not.toBe(computeHash(a));
  });
});

describe('planScale (proportional scaling)', () => {
  it('proportional scaling: 5 -> 10', () => {
    // Mid-rollout at 5 replicas with maxSurge 1: old 4 + new 2 = 6 = 5 + 1.
    const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
    const before = deploymentFixture('web', { replicas: 5, strategy });
    const old = rsFor(before, { image: 'v1', replicas: 4, available: 4, revision: 1, created: 1, desired: 5, maxReplicas: 6 });
    const neu = rsFor(before, { image: 'v2', replicas: 2, revision: 2, created: 2, desired: 5, maxReplicas: 6 });
    const after = deploymentFixture('web', { replicas: 10, image: 'v2', strategy });
    const plan = planScale(after, neu, [old]);
    expect(plan.proportional).toBe(true);
    // allowed 11: old 4*11/6 = 7.33 -> 7, new 2*11/6 = 3.67 -> 4.
    expect(plan.actions).toEqual([
      { rs: old.metadata!.name, from: 4, to: 7 },
      { rs: neu.metadata!.name, from: 2, to: 4 },
    ]);
  });

  it('proportional scaling: 10 -> 5, leftovers to the largest', () => {
    const d10 = deploymentFixture('web', { replicas: 10 });
    const old = rsFor(d10, { image: 'v1', replicas: 8, available: 8, revision: 1, created: 1, desired: 10, maxReplicas: 13 });
    const neu = rsFor(d10, { image: 'v2', replicas: 5, revision: 2, created: 2, desired: 10, maxReplicas: 13 });
    const d5 = deploymentFixture('web', { replicas: 5, image: 'v2' });
    // allowed 5 + 2 = 7, to add -6: old 8*7/13 = 4.3 -> 4 (-4), new 5*7/13 = 2.7 -> 3 (-2).
    expect(planScale(d5, neu, [old]).actions).toEqual([
      { rs: old.metadata!.name, from: 8, to: 4 },
      { rs: neu.metadata!.name, from: 5, to: 3 },
    ]);
  });

  it('one active ReplicaSet takes the whole count', () => {
    const d = deploymentFixture('web', { replicas: 7 });
    const only = rsFor(d, { image: 'busybox:1', replicas: 3, available: 3, revision: 1, desired: 3 });
    const empty = rsFor(d, { image: 'v0', replicas: 0, revision: 0 });
    expect(planScale(d, only, [empty]).actions).toEqual([{ rs: only.metadata!.name, from: 3, to: 7 }]);
  });

  it('a saturated new ReplicaSet scales the old ones to 0', () => {
    const d = deploymentFixture('web', { replicas: 3 });
    const neu = rsFor(d, { image: 'busybox:1', replicas: 3, available: 3, revision: 2, desired: 3 });
    const old = rsFor(d, { image: 'v0', replicas: 1, available: 1, revision: 1, desired: 3 });
    expect(planScale(d, neu, [old]).actions).toEqual([{ rs: old.metadata!.name, from: 1, to: 0 }]);
  });
});

describe('planRollingStep', () => {
  const d = deploymentFixture('web', { replicas: 10, image: 'v2' }); // 25%/25%: surge 3, unavailable 2
  const name = (image: string): string => rsFor(d, { image, replicas: 0, revision: 0 }).metadata!.name;

  const cases: { name: string; old: [string, number, number][]; neu: [number, number]; kind: string; actions: [string, number, number][] }[] = [
    { name: 'start: the new ReplicaSet surges by 3', old: [['v1', 10, 10]], neu: [0, 0], kind: 'scaleNew', actions: [['v2', 0, 3]] },
    { name: 'at max surge with nothing new available: old scales down by maxUnavailable', old: [['v1', 10, 10]], neu: [3, 0], kind: 'scaleOld', actions: [['v1', 10, 8]] },
    { name: 'old scaled down: the new one surges again', old: [['v1', 8, 8]], neu: [3, 0], kind: 'scaleNew', actions: [['v2', 3, 5]] },
    { name: 'new pods available: old scales down further', old: [['v1', 8, 8]], neu: [5, 5], kind: 'scaleOld', actions: [['v1', 8, 3]] },
    { name: 'nothing available to give: no step', old: [['v1', 8, 8]], neu: [5, 0], kind: 'none', actions: [] },
    { name: 'unhealthy old replicas go first, beyond maxUnavailable', old: [['v1', 8, 4]], neu: [5, 5], kind: 'scaleOld', actions: [['v1', 8, 3]] },
    {
      name: 'rollover: the ReplicaSet that was growing is scaled down first',
      old: [['v1', 8, 8], ['v2b', 5, 0]],
      neu: [0, 0],
      kind: 'scaleOld',
      actions: [['v2b', 5, 0]],
    },
    { name: 'done: no step', old: [['v1', 0, 0]], neu: [10, 10], kind: 'none', actions: [] },
  ];
  it.each(cases)('$name', (c) => {
    const oldRSs = c.old.map(([image, replicas, available], i) => rsFor(d, { image, replicas, available, revision: i + 1, created: i }));
    const newRS = rsFor(d, { image: 'v2', replicas: c.neu[0], available: c.neu[1], revision: 9, created: 100 });
    const step = planRollingStep({ deployment: d, newRS, oldRSs });
    expect(step.kind).toBe(c.kind);
    expect(step.actions).toEqual(c.actions.map(([image, from, to]) => ({ rs: name(image), from, to })));
  });

  it('waits for a lagging status: no surge while the old scale-down is not yet seen', () => {
    const old = rsFor(d, { image: 'v1', replicas: 8, actual: 10, available: 10, revision: 1, created: 0 });
    const newRS = rsFor(d, { image: 'v2', replicas: 3, available: 0, revision: 2, created: 1 });
    expect(planRollingStep({ deployment: d, newRS, oldRSs: [old] })).toEqual({ kind: 'none', actions: [] });
  });

  it('caps a lagging available count by spec so availability never drops below the minimum', () => {
    // Old spec 8 while its status still says 10 available; new has 3 of 5 available:
    // kept available 8 + 3 = 11, so 3 more may go (not 5, which would leave 8 + 3 - 5 = 6).
    const old = rsFor(d, { image: 'v1', replicas: 8, actual: 8, available: 10, revision: 1, created: 0 });
    const newRS = rsFor(d, { image: 'v2', replicas: 5, available: 3, revision: 2, created: 1 });
    expect(planRollingStep({ deployment: d, newRS, oldRSs: [old] }).actions).toEqual([{ rs: name('v1'), from: 8, to: 5 }]);
  });
});
