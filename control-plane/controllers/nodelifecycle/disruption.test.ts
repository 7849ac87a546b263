import { describe, expect, it } from 'vitest';
import { DEFAULT_DISRUPTION, planTainting, zoneState, type Bucket, type NodeSnapshot } from './disruption.js';

const T0 = 1_000_000;
function nodes(spec: string, zone = ''): NodeSnapshot[] {
  // One letter a node: r ready, u unreachable (waiting for its taint), n not-ready (waiting), U unreachable and already tainted.
  return [...spec].map((c, i) => ({
    name: `${zone || 'n'}${i}`,
    zone,
    health: (c === 'r' ? 'ready' : c === 'n' ? 'not-ready' : 'unreachable'),
    wantsNoExecute: c === 'u' ? 'node.kubernetes.io/unreachable' : c === 'n' ? 'node.kubernetes.io/not-ready' : undefined,
    unhealthySince: T0 + i,
  }));
}

describe('zoneState', () => {
  it.each([
    ['no unhealthy node', 10, 0, 'Normal'],
    ['2 of 3 unhealthy: under 3 nodes is never partial', 3, 2, 'Normal'],
    ['3 of 5 (60%)', 5, 3, 'PartialDisruption'],
    ['3 of 10 (30%)', 10, 3, 'Normal'],
    ['all of them', 4, 4, 'FullDisruption'],
    ['the only node', 1, 1, 'FullDisruption'],
  ])('%s', (_name, size, unhealthy, want) => {
    expect(zoneState(size, unhealthy, 0.55)).toBe(want);
  });
});

describe('planTainting', () => {
  it('one dead node among three: tainted at once (a full bucket)', () => {
    const p = planTainting({ nodes: nodes('rru'), buckets: new Map(), now: T0, config: DEFAULT_DISRUPTION });
    expect(p.taint).toEqual([{ name: 'n2', key: 'node.kubernetes.io/unreachable' }]);
    expect(p.liftAll).toBe(false);
    expect(p.zones.get('')).toBe('Normal');
  });

  it('two dead nodes: the second waits 10 s at 0.1 nodes/s, in the order they went down', () => {
    const first = planTainting({ nodes: nodes('rrrrruu'), buckets: new Map(), now: T0, config: DEFAULT_DISRUPTION });
    expect(first.taint.map((t) => t.name)).toEqual(['n5']);
    expect(first.recheckInMs).toBe(10_000);
    const tainted = nodes('rrrrrUu');
    const early = planTainting({ nodes: tainted, buckets: first.buckets, now: T0 + 9_000, config: DEFAULT_DISRUPTION });
    expect(early.taint).toEqual([]);
    expect(early.recheckInMs).toBe(1000);
    const due = planTainting({ nodes: tainted, buckets: early.buckets, now: T0 + 10_000, config: DEFAULT_DISRUPTION });
    expect(due.taint.map((t) => t.name)).toEqual(['n6']);
  });

  it('partial disruption in a small zone: nobody is tainted', () => {
    const p = planTainting({ nodes: nodes('rruuu'), buckets: new Map(), now: T0, config: DEFAULT_DISRUPTION });
    expect(p.zones.get('')).toBe('PartialDisruption');
    expect(p.taint).toEqual([]);
  });

  it('partial disruption in a large zone: the secondary rate', () => {
    const big = nodes(`${'r'.repeat(20)}${'u'.repeat(40)}`);
    const p = planTainting({ nodes: big, buckets: new Map<string, Bucket>([['', { tokens: 0, at: T0 }]]), now: T0, config: DEFAULT_DISRUPTION });
    expect(p.taint).toEqual([]);
    expect(p.recheckInMs).toBe(100_000); // one node per 100 s at 0.01/s
  });

  it('every node unreachable (the control plane is cut off): nothing tainted, taints lifted', () => {
    const p = planTainting({ nodes: nodes('uuU'), buckets: new Map(), now: T0, config: DEFAULT_DISRUPTION });
    expect(p.zones.get('')).toBe('FullDisruption');
    expect(p.liftAll).toBe(true);
    expect(p.taint).toEqual([]);
  });

  it('one zone fully down while another is healthy: that zone is evicted at the normal rate', () => {
    const p = planTainting({ nodes: [...nodes('uu', 'a'), ...nodes('rrr', 'b')], buckets: new Map(), now: T0, config: DEFAULT_DISRUPTION });
    expect(p.zones.get('a')).toBe('FullDisruption');
    expect(p.liftAll).toBe(false);
    expect(p.taint.map((t) => t.name)).toEqual(['a0']);
  });

  it('a not-ready node (runtime down) is tainted like an unreachable one', () => {
    const p = planTainting({ nodes: nodes('rrn'), buckets: new Map(), now: T0, config: DEFAULT_DISRUPTION });
    expect(p.taint).toEqual([{ name: 'n2', key: 'node.kubernetes.io/not-ready' }]);
  });
});
