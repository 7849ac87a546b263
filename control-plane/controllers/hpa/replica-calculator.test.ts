// Kubernetes' own cases from pkg/controller/podautoscaler/replica_calculator_test.go, with its
// harness: two containers per pod, each with the request and usage level of its pod; pods
// past the levels have no metrics; "hot" pods started now, "cool" ones 3 minutes ago; the Ready
// condition changed at the start time; CPU initialization period 2 min and readiness delay 10 s.
import { describe, expect, it } from 'vitest';
import {
  averageValueReplicas, CalculatorError, groupPods, resourceReplicas, type CalculatorParams, type PodMetric, type PodSnapshot,
} from './replica-calculator.js';

const NOW = 1_800_000_000_000;
const HOT = NOW;
const COOL = NOW - 3 * 60_000;
const PARAMS: CalculatorParams = { tolerance: 0.1, cpuInitializationPeriodMs: 2 * 60_000, delayOfInitialReadinessStatusMs: 10_000 };
const CONTAINERS = 2;

interface Case {
  current: number;
  requests: number[];
  levels: number[];
  target: number;
  readiness?: ('True' | 'False')[];
  phase?: string[];
  deleting?: boolean[];
  start?: number[];
}

function run(c: Case, resource = 'cpu'): ReturnType<typeof resourceReplicas> {
  const n = Math.max(c.requests.length, c.levels.length, c.readiness?.length ?? 0, c.phase?.length ?? 0);
  const pods: PodSnapshot[] = [];
  const metrics = new Map<string, PodMetric>();
  for (let i = 0; i < n; i++) {
    const start = c.start?.[i] ?? COOL;
    const name = `pod-${i}`;
    pods.push({
      name,
      phase: c.phase?.[i] ?? 'Running',
      deleting: c.deleting?.[i] ?? false,
      ready: { status: c.readiness?.[i] ?? 'True', lastTransitionMs: start },
      startTimeMs: start,
      requests: Array.from({ length: CONTAINERS }, (_, k) => ({ container: `c${k}`, milli: c.requests[i] })),
    });
    const level = c.levels[i];
    if (level !== undefined) metrics.set(name, { milli: level * CONTAINERS, timestampMs: NOW, windowMs: 60_000 });
  }
  return resourceReplicas({ currentReplicas: c.current, resource, pods, metrics, nowMs: NOW, params: PARAMS }, c.target);
}

const ones = (k: number): number[] => Array.from({ length: k }, () => 1000);

describe('resourceReplicas (Kubernetes replica_calculator_test.go)', () => {
  const cases: [string, Case, number, number][] = [
    // name, case, expected replicas, expected utilization
    ['ScaleUp', { current: 3, requests: ones(3), levels: [300, 500, 700], target: 30 }, 5, 50],
    ['ScaleUpUnreadyLessScale', { current: 3, requests: ones(3), levels: [300, 500, 700], target: 30, readiness: ['False', 'True', 'True'] }, 4, 60],
    ['ScaleUpHotCpuLessScale', { current: 3, requests: ones(3), levels: [300, 500, 700], target: 30, start: [HOT, COOL, COOL] }, 4, 60],
    ['ScaleUpUnreadyNoScale', { current: 3, requests: ones(3), levels: [400, 500, 700], target: 30, readiness: ['True', 'False', 'False'] }, 3, 40],
    ['ScaleHotCpuNoScale', { current: 3, requests: ones(3), levels: [400, 500, 700], target: 30, readiness: ['True', 'False', 'False'], start: [COOL, HOT, HOT] }, 3, 40],
    ['ScaleUpIgnoresFailedPods', { current: 2, requests: ones(4), levels: [500, 700], target: 30, readiness: ['True', 'True', 'False', 'False'], phase: ['Running', 'Running', 'Failed', 'Failed'] }, 4, 60],
    ['ScaleUpIgnoresDeletionPods', { current: 2, requests: ones(4), levels: [500, 700], target: 30, readiness: ['True', 'True', 'False', 'False'], deleting: [false, false, true, true] }, 4, 60],
    ['ScaleDown', { current: 5, requests: ones(5), levels: [100, 300, 500, 250, 250], target: 50 }, 3, 28],
    ['ScaleDownIncludeUnreadyPods', { current: 5, requests: ones(5), levels: [100, 300, 500, 250, 250], target: 50, readiness: ['True', 'True', 'True', 'False', 'False'] }, 2, 30],
    ['ScaleDownExcludeUnscheduledPods', { current: 5, requests: ones(5), levels: [100], target: 50, readiness: ['True', 'False', 'False', 'False', 'False'], phase: ['Running', 'Pending', 'Pending', 'Pending', 'Pending'] }, 1, 10],
    ['ScaleDownIgnoreHotCpuPods', { current: 5, requests: ones(5), levels: [100, 300, 500, 250, 250], target: 50, start: [COOL, COOL, COOL, HOT, HOT] }, 2, 30],
    ['ScaleDownIgnoresFailedPods', { current: 5, requests: ones(7), levels: [100, 300, 500, 250, 250], target: 50, readiness: ['True', 'True', 'True', 'True', 'True', 'False', 'False'], phase: ['Running', 'Running', 'Running', 'Running', 'Running', 'Failed', 'Failed'] }, 3, 28],
    ['ScaleDownIgnoresDeletionPods', { current: 5, requests: ones(7), levels: [100, 300, 500, 250, 250], target: 50, readiness: ['True', 'True', 'True', 'True', 'True', 'False', 'False'], deleting: [false, false, false, false, false, true, true] }, 3, 28],
    ['Tolerance', { current: 3, requests: [900, 1000, 1100], levels: [1010, 1030, 1020], target: 100 }, 3, 102],
    ['MissingMetrics', { current: 4, requests: ones(4), levels: [400, 95], target: 100 }, 3, 24],
    ['MissingMetricsNoChangeEq', { current: 2, requests: ones(2), levels: [1000], target: 100 }, 2, 100],
    ['MissingMetricsNoChangeGt', { current: 2, requests: ones(2), levels: [1900], target: 100 }, 2, 190],
    ['MissingMetricsNoChangeLt', { current: 2, requests: ones(2), levels: [600], target: 100 }, 2, 60],
    ['MissingMetricsUnreadyChange', { current: 3, requests: ones(3), levels: [100, 450], target: 50, readiness: ['False', 'True', 'True'] }, 3, 45],
    ['MissingMetricsHotCpuNoChange', { current: 3, requests: ones(3), levels: [100, 450], target: 50, start: [HOT, COOL, COOL] }, 3, 45],
    ['MissingMetricsUnreadyScaleUp', { current: 3, requests: ones(3), levels: [100, 2000], target: 50, readiness: ['False', 'True', 'True'] }, 4, 200],
    ['MissingMetricsHotCpuScaleUp', { current: 3, requests: ones(3), levels: [100, 2000], target: 50, readiness: ['False', 'True', 'True'], start: [HOT, COOL, COOL] }, 4, 200],
    ['MissingMetricsUnreadyScaleDown', { current: 4, requests: ones(4), levels: [100, 100, 100], target: 50, readiness: ['False', 'True', 'True', 'True'] }, 3, 10],
    ['DuringRollingUpdateWithMaxSurge', { current: 2, requests: ones(3), levels: [100, 100], target: 50 }, 2, 10],
  ];
  for (const [name, c, replicas, utilization] of cases) {
    it(`${name}: ${c.current} -> ${replicas} at ${utilization}%`, () => {
      const r = run(c);
      expect(r.replicas).toBe(replicas);
      expect(r.utilization).toBe(utilization);
    });
  }

  it('SuperfluousMetrics: metrics of pods the selector did not pick are ignored: 4 -> 24', () => {
    // Kubernetes' harness reports levels for 6 pods with only 4 listed; here the extra two are unknown pods.
    const pods: PodSnapshot[] = [0, 1, 2, 3].map((i) => ({
      name: `pod-${i}`, phase: 'Running', deleting: false, ready: { status: 'True', lastTransitionMs: COOL }, startTimeMs: COOL,
      requests: [{ container: 'c0', milli: 1000 }, { container: 'c1', milli: 1000 }],
    }));
    const metrics = new Map([4000, 9500, 3000, 7000, 3200, 2000].map((l, i) => [`pod-${i}`, { milli: l * 2, timestampMs: NOW, windowMs: 60_000 }]));
    const r = resourceReplicas({ currentReplicas: 4, resource: 'cpu', pods, metrics, nowMs: NOW, params: PARAMS }, 100);
    expect([r.replicas, r.utilization]).toEqual([24, 587]);
  });

  it('ComputedToleranceAlgImplementation: a ratio just past the tolerance scales 10 -> 6, just inside it does not', () => {
    const perPod = 300;
    const requests = [perPod + 100, perPod - 100, perPod + 10, perPod - 10, perPod + 2, perPod - 2, perPod + 1, perPod - 1, perPod, perPod];
    const target = Math.trunc((Math.abs(1 / (2 * (1 - 0.1))) + 0.01) * 100);
    const c: Case = { current: 10, requests, levels: requests.map(() => 150), target };
    expect(run(c).replicas).toBe(Math.ceil((1500 / (3000 * (target / 100))) * 10));
    expect(run({ ...c, target: Math.trunc((Math.abs(1 / (2 * (1 - 0.1))) + 0.004) * 100) }).replicas).toBe(10);
  });

  it('EmptyMetrics and EmptyCPURequest fail with Kubernetes\' messages', () => {
    expect(() => run({ current: 4, requests: ones(3), levels: [], target: 100 })).toThrow('unable to get metrics for resource cpu: no metrics returned from resource metrics API');
    const pods: PodSnapshot[] = [{ name: 'p', phase: 'Running', deleting: false, ready: { status: 'True', lastTransitionMs: COOL }, startTimeMs: COOL, requests: [{ container: 'c0', milli: undefined }] }];
    const metrics = new Map([['p', { milli: 200, timestampMs: NOW, windowMs: 60_000 }]]);
    expect(() => resourceReplicas({ currentReplicas: 1, resource: 'cpu', pods, metrics, nowMs: NOW, params: PARAMS }, 100)).toThrow(CalculatorError);
    expect(() => resourceReplicas({ currentReplicas: 1, resource: 'cpu', pods, metrics, nowMs: NOW, params: PARAMS }, 100)).toThrow('missing request for cpu in container c0 of Pod p');
  });

  it('memory ignores readiness (only CPU has the initialization rules)', () => {
    expect(run({ current: 3, requests: ones(3), levels: [300, 500, 700], target: 30, readiness: ['False', 'True', 'True'] }, 'memory').replicas).toBe(5);
  });
});

describe('averageValueReplicas (calcPlainMetricReplicas)', () => {
  const pods = (k: number, readiness: string[] = []): PodSnapshot[] => Array.from({ length: k }, (_, i) => ({
    name: `pod-${i}`, phase: 'Running', deleting: false, ready: { status: readiness[i] ?? 'True', lastTransitionMs: COOL }, startTimeMs: COOL, requests: [],
  }));
  const m = (levels: number[]): Map<string, PodMetric> => new Map(levels.map((l, i) => [`pod-${i}`, { milli: l, timestampMs: NOW, windowMs: 60_000 }]));
  // Kubernetes runs these as pod (custom) metrics, which have no CPU readiness rules: memory neither.
  const calc = (current: number, p: PodSnapshot[], levels: number[], target: number): number =>
    averageValueReplicas({ currentReplicas: current, resource: 'memory', pods: p, metrics: m(levels), nowMs: NOW, params: PARAMS }, target).replicas;

  it('ScaleUpCM: 3 -> 4 (average 20000 over a 15000 target)', () => expect(calc(3, pods(3), [20000, 10000, 30000], 15000)).toBe(4));
  it('ScaleUpCMUnreadyHotCpuNoLessScale: 3 -> 6', () => {
    const p = pods(3, ['True', 'True', 'False']);
    p[2]!.startTimeMs = HOT;
    p[2]!.ready = { status: 'False', lastTransitionMs: HOT };
    expect(calc(3, p, [50000, 10000, 30000], 15000)).toBe(6);
  });
  it('ScaleDownCM: 5 -> 3', () => expect(calc(5, pods(5), [12000, 12000, 12000, 12000, 12000], 20000)).toBe(3));
  it('ToleranceCM: 3 stays', () => expect(calc(3, pods(3), [20000, 21000, 21000], 20000)).toBe(3));
});

describe('groupPods (Kubernetes TestGroupPods)', () => {
  const p = (over: Partial<PodSnapshot>): PodSnapshot => ({ name: 'x', phase: 'Succeeded', deleting: false, requests: [], ...over });
  const KP: CalculatorParams = { tolerance: 0.1, cpuInitializationPeriodMs: 2 * 60_000, delayOfInitialReadinessStatusMs: 10_000 };
  const one = (pod: PodSnapshot, metric: PodMetric | undefined, resource = 'cpu') =>
    groupPods([pod], new Map(metric ? [['x', metric]] : []), resource, NOW, KP);
  const s = 1000;

  it('counts in a pod for memory whatever its readiness', () => expect(one(p({}), { milli: 1, timestampMs: NOW, windowMs: 60 * s }, 'memory').readyPodCount).toBe(1));
  it('ignores a CPU pod without a ready condition', () => expect([...one(p({ startTimeMs: NOW }), { milli: 1, timestampMs: 0, windowMs: 0 }).unready]).toEqual(['x']));
  it('counts a ready pod with fresh metrics during initialization', () =>
    expect(one(p({ startTimeMs: NOW - 60 * s, ready: { status: 'True', lastTransitionMs: NOW - 30 * s } }), { milli: 1, timestampMs: NOW, windowMs: 30 * s }).readyPodCount).toBe(1));
  it('ignores a ready pod without fresh metrics during initialization', () =>
    expect(one(p({ startTimeMs: NOW - 60 * s, ready: { status: 'True', lastTransitionMs: NOW - 30 * s } }), { milli: 1, timestampMs: NOW, windowMs: 60 * s }).unready.size).toBe(1));
  it('ignores an unready pod that never became ready after initialization', () =>
    expect(one(p({ startTimeMs: NOW - 600 * s, ready: { status: 'False', lastTransitionMs: NOW - 594 * s } }), { milli: 1, timestampMs: 0, windowMs: 0 }).unready.size).toBe(1));
  it('counts in an unready pod that was ready after initialization', () =>
    expect(one(p({ startTimeMs: NOW - 600 * s, ready: { status: 'False', lastTransitionMs: NOW - 540 * s } }), { milli: 1, timestampMs: 0, windowMs: 0 }).readyPodCount).toBe(1));
  it('marks a pod without metrics missing', () => expect([...one(p({ startTimeMs: NOW - 180 * s }), undefined).missing]).toEqual(['x']));
});
