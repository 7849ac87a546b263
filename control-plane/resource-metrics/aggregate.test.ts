import { describe, expect, it } from 'vitest';
import type { NodeStats } from '../../proto/gen/skiff/v1/agent.js';
import { Pod } from '../../proto/gen/skiff/v1/core.js';
import { cpuQuantity, memoryQuantity, nodeMetrics, podMetrics, windowText } from './aggregate.js';

const stats: NodeStats = {
  nodeName: 'n1', timestamp: '2026-12-02T02:00:10.123Z', windowSeconds: 10.0004, cpuNanoCores: 300_000_000, memoryWorkingSetBytes: 3 << 20,
  pods: [
    { namespace: 'a', name: 'web-1', uid: 'u1', containers: [{ name: 'web', cpuNanoCores: 250_000_000, memoryWorkingSetBytes: 2 << 20 }] },
    { namespace: 'a', name: 'old', uid: 'u-old', containers: [{ name: 'web', cpuNanoCores: 50_000_000, memoryWorkingSetBytes: 1 << 20 }] },
  ],
};

describe('metrics.k8s.io objects from agent samples', () => {
  it('formats quantities as metrics-server does', () => {
    expect(cpuQuantity(1234.6)).toBe('1235n');
    expect(memoryQuantity(2048 + 1023)).toBe('2Ki');
    expect(windowText(10.0004)).toBe('10s');
    expect(windowText(15.25)).toBe('15.25s');
  });

  it('builds PodMetrics for pods the API knows by the same uid, with their labels', () => {
    const pods = new Map([
      ['a/web-1', Pod.fromPartial({ metadata: { name: 'web-1', namespace: 'a', uid: 'u1', labels: { app: 'web' } } })],
      ['a/old', Pod.fromPartial({ metadata: { name: 'old', namespace: 'a', uid: 'u-new' } })],
    ]);
    const out = podMetrics([stats], (ns, n) => pods.get(`${ns}/${n}`));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      apiVersion: 'metrics.k8s.io/v1beta1', kind: 'PodMetrics', metadata: { name: 'web-1', namespace: 'a', labels: { app: 'web' } },
      timestamp: '2026-12-02T02:00:10Z', window: '10s', containers: [{ name: 'web', usage: { cpu: '250000000n', memory: '2048Ki' } }],
    });
  });

  it('builds NodeMetrics only for nodes that have a sample', () => {
    const out = nodeMetrics([stats, { ...stats, nodeName: 'n2', timestamp: '' }], () => ({ zone: 'z1' }));
    expect(out.map((n) => [n.metadata?.name, n.usage, n.metadata?.labels])).toEqual([['n1', { cpu: '300000000n', memory: '3072Ki' }, { zone: 'z1' }]]);
  });
});
