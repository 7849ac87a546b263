import { describe, expect, it } from 'vitest';
import type { Taint } from '../../../proto/gen/skiff/v1/core.js';
import { node, pod } from '../scheduler/fixtures.js';
import { decide, evictionDelayMs, UNREACHABLE_TAINT_KEY, type LifecycleConfig } from './decide.js';

const config: LifecycleConfig = { gracePeriodMs: 15_000, evictionDelayMs: 20_000 };
const T0 = Date.UTC(2026, 0, 1);
const taintAt = (ms: number): Taint => ({ key: UNREACHABLE_TAINT_KEY, value: '', effect: 'NoExecute', timeAdded: new Date(ms).toISOString() });

describe('decide', () => {
  it('a fresh lease needs nothing and rechecks when it would expire', () => {
    const d = decide({ node: node('a'), lastRenewSeenAt: T0, pods: [], now: T0 + 5000, config });
    expect(d).toEqual({ unreachable: false, markUnknown: false, addTaint: false, removeTaint: false, evict: [], recheckInMs: 10_000 });
  });

  it('a fresh lease removes a leftover unreachable taint', () => {
    const d = decide({ node: node('a', { taints: [taintAt(T0)] }), lastRenewSeenAt: T0 + 1, pods: [], now: T0 + 2, config });
    expect(d.removeTaint).toBe(true);
  });

  it('an expired lease marks Unknown, taints, and schedules the eviction', () => {
    const p = pod('p', { nodeName: 'a' });
    const d = decide({ node: node('a'), lastRenewSeenAt: T0, pods: [p], now: T0 + 15_000, config });
    expect(d).toMatchObject({ unreachable: true, markUnknown: true, addTaint: true, evict: [], recheckInMs: 20_000 });
  });

  it('evicts once the node has been tainted for the delay, and not twice marks or taints', () => {
    const n = node('a', { taints: [taintAt(T0 + 15_000)] });
    n.status!.conditions = [
      { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: '', lastTransitionTime: '', lastUpdateTime: '', lastProbeTime: '', lastHeartbeatTime: '' },
    ];
    const plain = pod('plain', { nodeName: 'a' });
    const patient = pod('patient', {
      nodeName: 'a',
      tolerations: [{ key: UNREACHABLE_TAINT_KEY, operator: 'Exists', value: '', effect: 'NoExecute', tolerationSeconds: 60 }],
    });
    const d = decide({ node: n, lastRenewSeenAt: T0, pods: [plain, patient], now: T0 + 35_000, config });
    expect(d.markUnknown).toBe(false);
    expect(d.addTaint).toBe(false);
    expect(d.evict.map((p) => p.metadata!.name)).toEqual(['plain']);
    expect(d.recheckInMs).toBe(40_000);
  });

  it('defaults fit "a dead node\'s pods run elsewhere within 60 s" with room to reschedule', () => {
    const d = decide({ node: node('a'), lastRenewSeenAt: T0, pods: [pod('p', { nodeName: 'a' })], now: T0 + 15_000, config });
    expect(15_000 + d.recheckInMs!).toBeLessThanOrEqual(40_000);
  });
});

describe('evictionDelayMs', () => {
  const taint = taintAt(T0);
  it.each([
    ['no toleration: the default delay', [], 20_000],
    ['tolerationSeconds 5', [{ key: UNREACHABLE_TAINT_KEY, operator: 'Exists', value: '', effect: 'NoExecute', tolerationSeconds: 5 }], 5000],
    ['the shortest of two', [
      { key: UNREACHABLE_TAINT_KEY, operator: 'Exists', value: '', effect: 'NoExecute', tolerationSeconds: 50 },
      { key: '', operator: 'Exists', value: '', effect: '', tolerationSeconds: 7 },
    ], 7000],
    ['tolerated forever', [{ key: UNREACHABLE_TAINT_KEY, operator: 'Exists', value: '', effect: 'NoExecute' }], Number.POSITIVE_INFINITY],
    ['a NoSchedule toleration does not count', [{ key: UNREACHABLE_TAINT_KEY, operator: 'Exists', value: '', effect: 'NoSchedule', tolerationSeconds: 1 }], 20_000],
  ])('%s', (_name, tolerations, want) => {
    expect(evictionDelayMs(pod('p', { tolerations }), taint, 20_000)).toBe(want);
  });
});
