import { describe, expect, it } from 'vitest';
import type { Node, Pod, Taint, Toleration } from '../../../proto/gen/skiff/v1/core.js';
import { node, pod } from '../scheduler/fixtures.js';
import {
  decide,
  DISK_PRESSURE_TAINT_KEY,
  evictionDelayMs,
  NOT_READY_TAINT_KEY,
  UNREACHABLE_TAINT_KEY,
  type LifecycleConfig,
} from './decide.js';

const config: LifecycleConfig = { gracePeriodMs: 15_000, evictionDelayMs: 20_000 };
const T0 = Date.UTC(2026, 0, 1);
const iso = (ms: number): string => new Date(ms).toISOString();
const noExec = (key: string, at: number): Taint => ({ key, value: '', effect: 'NoExecute', timeAdded: iso(at) });
const noSched = (key: string): Taint => ({ key, value: '', effect: 'NoSchedule', timeAdded: '' });
const tol = (key: string, seconds?: number): Toleration => ({ key, operator: 'Exists', value: '', effect: 'NoExecute', tolerationSeconds: seconds });

function withConditions(n: Node, c: Record<string, string>): Node {
  n.status!.conditions = Object.entries(c).map(([type, status]) => ({
    type, status, reason: type === 'Ready' && status === 'Unknown' ? 'NodeStatusUnknown' : '', message: '',
    lastTransitionTime: '', lastUpdateTime: '', lastProbeTime: '', lastHeartbeatTime: '',
  }));
  return n;
}
const readyPod = (name: string, tolerations: Toleration[] = []): Pod => {
  const p = pod(name, { nodeName: 'a', phase: 'Running', tolerations });
  p.status!.conditions = [{ type: 'Ready', status: 'True', reason: '', message: '', lastTransitionTime: '', lastProbeTime: '', lastUpdateTime: '', lastHeartbeatTime: '' }];
  return p;
};
const names = (ps: readonly { pod: Pod }[] | readonly Pod[]): string[] => ps.map((x) => ('pod' in x ? x.pod : x).metadata!.name);

describe('decide: health and taints', () => {
  it.each<[string, { node: Node; seen: number; now: number }, Partial<{ health: string; markUnknown: boolean; taints: string[] | undefined; wantsNoExecute: string | undefined; recheckInMs: number }>]>([
    ['fresh lease, Ready: nothing, recheck at lease expiry', { node: node('a'), seen: T0, now: T0 + 5000 },
      { health: 'ready', markUnknown: false, taints: undefined, wantsNoExecute: undefined, recheckInMs: 10_000 }],
    ['fresh lease lifts leftover unreachable taints', { node: node('a', { taints: [noSched(UNREACHABLE_TAINT_KEY), noExec(UNREACHABLE_TAINT_KEY, T0)] }), seen: T0 + 1, now: T0 + 2 },
      { health: 'ready', taints: [] }],
    ['lease expired: Unknown, NoSchedule now, NoExecute waits for the rate limiter', { node: node('a'), seen: T0, now: T0 + 15_000 },
      { health: 'unreachable', markUnknown: true, taints: [`${UNREACHABLE_TAINT_KEY}:NoSchedule`], wantsNoExecute: UNREACHABLE_TAINT_KEY }],
    ['agent says Ready=False: not-ready NoSchedule, wants not-ready NoExecute, not marked Unknown', { node: withConditions(node('a'), { Ready: 'False' }), seen: T0, now: T0 + 1000 },
      { health: 'not-ready', markUnknown: false, taints: [`${NOT_READY_TAINT_KEY}:NoSchedule`], wantsNoExecute: NOT_READY_TAINT_KEY }],
    ['DiskPressure: disk-pressure NoSchedule only', { node: withConditions(node('a'), { Ready: 'True', DiskPressure: 'True' }), seen: T0, now: T0 + 1000 },
      { health: 'ready', taints: [`${DISK_PRESSURE_TAINT_KEY}:NoSchedule`], wantsNoExecute: undefined }],
    ['not-ready becomes unreachable: the NoExecute taint is re-keyed at once, keeping its time', {
      node: withConditions(node('a', { taints: [noSched(NOT_READY_TAINT_KEY), noExec(NOT_READY_TAINT_KEY, T0)] }), { Ready: 'False' }), seen: T0, now: T0 + 16_000 },
    { health: 'unreachable', taints: [`${UNREACHABLE_TAINT_KEY}:NoSchedule`, `${UNREACHABLE_TAINT_KEY}:NoExecute`], wantsNoExecute: undefined }],
    ['a user taint is kept as it is', { node: node('a', { taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule', timeAdded: '' }] }), seen: T0, now: T0 + 1 },
      { taints: undefined }],
  ])('%s', (_name, { node: n, seen, now }, want) => {
    const d = decide({ node: n, lastRenewSeenAt: seen, pods: [], now, config });
    const got = { ...d, taints: d.taints?.map((t) => `${t.key}:${t.effect}`) };
    expect(got).toMatchObject(want);
  });

  it('unreachable: every pod not already NotReady is marked NotReady at once, before any eviction', () => {
    const a = readyPod('a1');
    const already = readyPod('a2');
    already.status!.conditions[0]!.status = 'False';
    const d = decide({ node: node('a'), lastRenewSeenAt: T0, pods: [a, already], now: T0 + 15_000, config });
    expect(names(d.markNotReady)).toEqual(['a1']);
    expect(d.evict).toEqual([]);
  });

  it('not-ready (the agent still posts): pods are not marked by the controller', () => {
    const d = decide({ node: withConditions(node('a'), { Ready: 'False' }), lastRenewSeenAt: T0, pods: [readyPod('p')], now: T0 + 1000, config });
    expect(d.markNotReady).toEqual([]);
  });
});

describe('decide: eviction', () => {
  const unreachable = (at: number): Node =>
    withConditions(node('a', { taints: [noSched(UNREACHABLE_TAINT_KEY), noExec(UNREACHABLE_TAINT_KEY, at)] }), { Ready: 'Unknown' });

  it.each<[string, Node, Pod[], number, string[], number | undefined]>([
    ['before the default delay: nobody; recheck when it ends', unreachable(T0), [readyPod('plain')], T0 + 19_000, [], 1000],
    ['after the default delay: the pod without toleration', unreachable(T0), [readyPod('plain'), readyPod('patient', [tol(UNREACHABLE_TAINT_KEY, 60)])], T0 + 20_000, ['plain'], 40_000],
    ['tolerationSeconds honoured', unreachable(T0), [readyPod('patient', [tol(UNREACHABLE_TAINT_KEY, 60)])], T0 + 60_000, ['patient'], undefined],
    ['tolerated forever: never', unreachable(T0), [readyPod('forever', [tol(UNREACHABLE_TAINT_KEY)])], T0 + 3_600_000, [], undefined],
    ['a user NoExecute taint evicts an intolerant pod at once', node('a', { taints: [noExec('maintenance', T0)] }), [readyPod('p'), readyPod('ok', [tol('maintenance')])], T0 + 1, ['p'], 15_000],
    ['a user NoExecute taint with tolerationSeconds 30', node('a', { taints: [noExec('maintenance', T0)] }), [readyPod('p', [tol('maintenance', 30)])], T0 + 10_000, [], 15_000], // the lease check comes first (eviction in 20 s),
  ])('%s', (_name, n, pods, now, evicted, recheck) => {
    const seen = n.spec!.taints.some((t) => t.key === UNREACHABLE_TAINT_KEY) ? T0 - 15_000 : now;
    const d = decide({ node: n, lastRenewSeenAt: seen, pods, now, config });
    expect(names(d.evict)).toEqual(evicted);
    expect(d.evict.every((e) => e.gracePeriodSeconds === undefined)).toBe(true); // graceful: the pod's own grace period
    expect(d.recheckInMs).toBe(recheck);
  });

  it('a pod deleted gracefully on an unreachable node is forced once its grace period is over', () => {
    const p = readyPod('p');
    p.metadata!.deletionTimestamp = iso(T0 + 50_000);
    const before = decide({ node: unreachable(T0), lastRenewSeenAt: T0 - 15_000, pods: [p], now: T0 + 40_000, config });
    expect(before.evict).toEqual([]);
    expect(before.recheckInMs).toBe(10_000);
    const after = decide({ node: unreachable(T0), lastRenewSeenAt: T0 - 15_000, pods: [p], now: T0 + 50_000, config });
    expect(after.evict.map((e) => [e.pod.metadata!.name, e.gracePeriodSeconds])).toEqual([['p', 0]]);
  });

  it('defaults fit "a dead node\'s pods run elsewhere within 60 s" with room to reschedule', () => {
    expect(config.gracePeriodMs + config.evictionDelayMs).toBeLessThanOrEqual(40_000);
  });
});

describe('evictionDelayMs', () => {
  const t = noExec(UNREACHABLE_TAINT_KEY, T0);
  it.each([
    ['no toleration: the default delay', [], 20_000],
    ['tolerationSeconds 5', [tol(UNREACHABLE_TAINT_KEY, 5)], 5000],
    ['the shortest of two', [tol(UNREACHABLE_TAINT_KEY, 50), { key: '', operator: 'Exists', value: '', effect: '', tolerationSeconds: 7 }], 7000],
    ['tolerated forever', [tol(UNREACHABLE_TAINT_KEY)], Number.POSITIVE_INFINITY],
    ['a NoSchedule toleration does not count', [{ key: UNREACHABLE_TAINT_KEY, operator: 'Exists', value: '', effect: 'NoSchedule', tolerationSeconds: 1 }], 20_000],
  ])('%s', (_name, tolerations, want) => {
    expect(evictionDelayMs(pod('p', { tolerations }), t, 20_000)).toBe(want);
  });
});
