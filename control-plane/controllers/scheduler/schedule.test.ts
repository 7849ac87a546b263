import { describe, expect, it } from 'vitest';
import { isApiError } from '../../../proto/api/errors.js';
import { node, pod } from './fixtures.js';
import { feasibleNodesToFind, schedule } from './schedule.js';
import { cpuMillis, parseQuantity } from './resources.js';

describe('quantities', () => {
  it.each([
    ['100m', 100],
    ['0.5', 500],
    ['2', 2000],
    ['1n', 1],
    ['1e-3', 1],
    ['1.5k', 1_500_000],
  ])('cpu %s = %d millicores', (q, want) => expect(cpuMillis(q)).toBe(want));

  it.each([
    ['128Mi', 128 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1G', 1e9],
    ['1e3', 1000],
    ['512', 512],
  ])('memory %s = %d bytes', (q, want) => expect(parseQuantity(q)).toBe(want));

  it('rejects garbage with BadRequest', () => {
    let err: unknown;
    try {
      parseQuantity('12 apples');
    } catch (e) {
      err = e;
    }
    expect(isApiError(err, 'BadRequest')).toBe(true);
  });
});

describe('filter reasons', () => {
  const cases: {
    name: string;
    nodes: ReturnType<typeof node>[];
    bound?: ReturnType<typeof pod>[];
    pending: ReturnType<typeof pod>;
    want: Record<string, number>;
  }[] = [
    {
      name: 'NotReady nodes are skipped',
      nodes: [node('a', { ready: false }), node('b', { ready: false })],
      pending: pod('p'),
      want: { 'node(s) were NotReady': 2 },
    },
    {
      name: 'cordoned nodes are skipped',
      nodes: [node('a', { unschedulable: true })],
      pending: pod('p'),
      want: { 'node(s) were unschedulable': 1 },
    },
    {
      name: 'nodeSelector must match labels',
      nodes: [node('a', { labels: { disk: 'hdd' } }), node('b')],
      pending: pod('p', { nodeSelector: { disk: 'ssd' } }),
      want: { "node(s) didn't match nodeSelector": 2 },
    },
    {
      name: 'cpu and memory shortfalls are both listed',
      nodes: [node('a', { cpu: '1', memory: '1Gi' })],
      pending: pod('p', { cpu: '2', memory: '2Gi' }),
      want: { 'Insufficient cpu': 1, 'Insufficient memory': 1 },
    },
    {
      name: 'bound pods use up allocatable',
      nodes: [node('a', { cpu: '1' })],
      bound: [pod('q', { cpu: '600m', nodeName: 'a', phase: 'Running' })],
      pending: pod('p', { cpu: '500m' }),
      want: { 'Insufficient cpu': 1 },
    },
    {
      name: 'the pods count is a resource',
      nodes: [node('a', { pods: '1' })],
      bound: [pod('q', { nodeName: 'a', phase: 'Running' })],
      pending: pod('p'),
      want: { 'Too many pods': 1 },
    },
    {
      name: 'a used hostPort with the same protocol conflicts',
      nodes: [node('a')],
      bound: [pod('q', { nodeName: 'a', hostPort: 8080 })],
      pending: pod('p', { hostPort: 8080 }),
      want: { "node(s) didn't have free ports for the requested pod ports": 1 },
    },
    {
      name: 'NoSchedule taints need a toleration',
      nodes: [node('a', { taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule', timeAdded: '' }] })],
      pending: pod('p'),
      want: { 'node(s) had untolerated taint {gpu: yes}': 1 },
    },
    {
      name: 'several node classes add up in pipeline order',
      nodes: [
        node('a', { ready: false }),
        node('b', { ready: false }),
        node('c', { labels: { zone: 'x' } }),
        node('d', { cpu: '100m', labels: { zone: 'y' } }),
        node('e', { cpu: '100m', labels: { zone: 'y' } }),
        node('f', { cpu: '100m', labels: { zone: 'y' } }),
      ],
      pending: pod('p', { cpu: '1', nodeSelector: { zone: 'y' } }),
      want: { 'node(s) were NotReady': 2, "node(s) didn't match nodeSelector": 1, 'Insufficient cpu': 3 },
    },
  ];

  it.each(cases)('$name', ({ nodes, bound, pending, want }) => {
    const r = schedule({ nodes, pods: bound ?? [] }, [pending]);
    expect(r.bindings).toEqual([]);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]!.reasons).toEqual(want);
  });

  it('writes the Kubernetes message', () => {
    const nodes = [node('a', { ready: false }), node('b', { ready: false }), node('c', { cpu: '1' }), node('d', { cpu: '1' })];
    const r = schedule({ nodes, pods: [] }, [pod('p', { cpu: '2', nodeSelector: {} }), pod('q', { nodeSelector: { x: 'y' } })]);
    expect(r.failures.map((f) => f.message)).toEqual([
      '0/4 nodes are available: 2 node(s) were NotReady, 2 Insufficient cpu.',
      "0/4 nodes are available: 2 node(s) were NotReady, 2 node(s) didn't match nodeSelector.",
    ]);
  });

  it('says when there are no nodes at all', () => {
    expect(schedule({ nodes: [], pods: [] }, [pod('p')]).failures[0]!.message).toBe('0/0 nodes are available: no nodes registered.');
  });

  it('reports a pod whose requests do not parse instead of throwing', () => {
    const r = schedule({ nodes: [node('a')], pods: [] }, [pod('p', { cpu: 'lots' })]);
    expect(r.failures[0]!.message).toMatch(/invalid resource quantity: "lots" is not a quantity/);
  });
});

describe('what fits', () => {
  it('a matching toleration lets a pod onto a tainted node', () => {
    const taint = { key: 'gpu', value: 'yes', effect: 'NoSchedule', timeAdded: '' };
    const r = schedule({ nodes: [node('a', { taints: [taint] })], pods: [] }, [
      pod('eq', { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'yes', effect: 'NoSchedule' }] }),
      pod('ex', { tolerations: [{ key: '', operator: 'Exists', value: '', effect: '' }] }),
      pod('wrong', { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'no', effect: 'NoSchedule' }] }),
    ]);
    expect(r.bindings.map((b) => b.pod.metadata?.name).sort()).toEqual(['eq', 'ex']);
    expect(r.failures.map((f) => f.pod.metadata?.name)).toEqual(['wrong']);
  });

  it('PreferNoSchedule taints do not filter', () => {
    const taint = { key: 'soft', value: '', effect: 'PreferNoSchedule', timeAdded: '' };
    expect(schedule({ nodes: [node('a', { taints: [taint] })], pods: [] }, [pod('p')]).bindings).toHaveLength(1);
  });

  it('hostPorts differ by protocol and by specific hostIP', () => {
    const bound = [pod('q', { nodeName: 'a', hostPort: 53, protocol: 'UDP', hostIP: '10.0.0.1' })];
    const r = schedule({ nodes: [node('a')], pods: bound }, [
      pod('tcp', { hostPort: 53, protocol: 'TCP' }),
      pod('other-ip', { hostPort: 53, protocol: 'UDP', hostIP: '10.0.0.2' }),
      pod('any-ip', { hostPort: 53, protocol: 'UDP' }),
    ]);
    expect(r.bindings.map((b) => b.pod.metadata?.name).sort()).toEqual(['other-ip', 'tcp']);
  });

  it('finished pods free their node', () => {
    const bound = [pod('done', { nodeName: 'a', cpu: '1', phase: 'Succeeded' })];
    expect(schedule({ nodes: [node('a', { cpu: '1' })], pods: bound }, [pod('p', { cpu: '1' })]).bindings).toHaveLength(1);
  });

  it('one batch does not overcommit: the second pod goes elsewhere or fails', () => {
    const r = schedule({ nodes: [node('a', { cpu: '1' })], pods: [] }, [pod('p1', { cpu: '600m' }), pod('p2', { cpu: '600m' })]);
    expect(r.bindings.map((b) => b.pod.metadata?.name)).toEqual(['p1']);
    expect(r.failures[0]!.reasons).toEqual({ 'Insufficient cpu': 1 });
  });

  it('spreads one owner before packing by allocation', () => {
    // b is emptier, but a has no pod of this owner yet while b has one.
    const bound = [pod('x', { nodeName: 'b', owner: 'rs1' }), pod('big', { nodeName: 'a', cpu: '3' })];
    const r = schedule({ nodes: [node('a'), node('b')], pods: bound }, [pod('p', { owner: 'rs1' })]);
    expect(r.bindings[0]!.nodeName).toBe('a');
  });

  it('prefers the least allocated node, then the name', () => {
    const bound = [pod('big', { nodeName: 'a', cpu: '3' })];
    expect(schedule({ nodes: [node('a'), node('b')], pods: bound }, [pod('p')]).bindings[0]!.nodeName).toBe('b');
    expect(schedule({ nodes: [node('b'), node('a')], pods: [] }, [pod('p')]).bindings[0]!.nodeName).toBe('a');
  });

  it('orders the batch by priority, then age', () => {
    const hi = pod('hi', { cpu: '1', created: '2026-01-02T00:00:00Z' });
    hi.spec!.priority = 10;
    const old = pod('old', { cpu: '1', created: '2026-01-01T00:00:00Z' });
    const young = pod('young', { cpu: '1', created: '2026-01-03T00:00:00Z' });
    const r = schedule({ nodes: [node('a', { cpu: '2' })], pods: [] }, [young, old, hi]);
    expect(r.bindings.map((b) => b.pod.metadata?.name)).toEqual(['hi', 'old']);
    expect(r.failures.map((f) => f.pod.metadata?.name)).toEqual(['young']);
  });

  it('does not change its input', () => {
    const nodes = [node('a')];
    const pods = [pod('q', { nodeName: 'a' })];
    const pending = [pod('p')];
    const before = JSON.stringify({ nodes, pods, pending });
    schedule({ nodes, pods }, pending);
    expect(JSON.stringify({ nodes, pods, pending })).toBe(before);
  });
});

describe('nodes looked at per pod (percentageOfNodesToScore)', () => {
  it.each([
    [10, 10],
    [99, 99],
    [100, 100],
    [300, 144],
    [1000, 420],
    [5000, 500],
    [10000, 500],
  ])('%d nodes: stop after %d feasible', (nodes, want) => expect(feasibleNodesToFind(nodes)).toBe(want));

  it('scans from a rotating start and still reports every node when none fits', () => {
    const nodes = Array.from({ length: 300 }, (_, i) => node(`n${String(i).padStart(3, '0')}`, { cpu: '1' }));
    const first = schedule({ nodes, pods: [] }, [pod('a', { cpu: '100m' })]);
    expect(first.bindings).toHaveLength(1);
    expect(first.nextStartIndex).toBe(144);
    const second = schedule({ nodes, pods: [] }, [pod('b', { cpu: '100m' })], { startIndex: first.nextStartIndex });
    // All nodes are equal, so the first of the ones looked at wins: the scan started at 144.
    expect(second.bindings[0]?.nodeName).toBe('n144');
    const none = schedule({ nodes, pods: [] }, [pod('c', { cpu: '2' })], { startIndex: 17 });
    expect(none.failures[0]?.message).toBe('0/300 nodes are available: 300 Insufficient cpu.');
    expect(none.nextStartIndex).toBe(17);
  });
});
