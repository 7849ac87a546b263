import { describe, expect, it } from 'vitest';
import type { ContainerStatsSample } from '../runtime/runtime.js';
import { computeUsage, type PodContainer } from './usage.js';

const sample = (containerId: string, timestampMs: number, cpuSeconds: number, memory = 1000): ContainerStatsSample => ({
  containerId, timestampMs, cpuUsageCoreNanoSeconds: cpuSeconds * 1e9, cpuUsageNanoCores: 0, memoryWorkingSetBytes: memory,
});
const ct = (containerId: string, pod: string, container = 'main'): PodContainer => ({ namespace: 'ns', pod, uid: `uid-${pod}`, container, containerId });

describe('computeUsage (metrics-server rate over two cumulative readings)', () => {
  it('gives nanocores as the CPU seconds used over the seconds between the readings', () => {
    const s = computeUsage('n1', [sample('a', 10_000, 5), sample('b', 10_000, 1)], [sample('a', 20_000, 7.5, 4096), sample('b', 20_000, 1.1, 2048)], [ct('a', 'p1'), ct('b', 'p1', 'side')], 0);
    expect(s.windowSeconds).toBe(10);
    expect(s.pods).toEqual([{
      namespace: 'ns', name: 'p1', uid: 'uid-p1', containers: [
        { name: 'main', cpuNanoCores: 250_000_000, memoryWorkingSetBytes: 4096 },
        { name: 'side', cpuNanoCores: 10_000_000, memoryWorkingSetBytes: 2048 },
      ],
    }]);
    expect(s.cpuNanoCores).toBe(260_000_000);
    expect(s.memoryWorkingSetBytes).toBe(6144);
    expect(s.timestamp).toBe(new Date(20_000).toISOString());
  });

  it('leaves out a container seen once, one whose counter went back, and one the agent does not run', () => {
    const s = computeUsage('n1', [sample('old', 0, 9), sample('gone', 0, 1)], [sample('old', 1000, 2), sample('new', 1000, 1), sample('stray', 1000, 1)], [ct('old', 'p1'), ct('new', 'p2'), ct('gone', 'p3')], 5000);
    expect(s.pods).toEqual([]);
    expect(s.cpuNanoCores).toBe(0);
    expect(s.timestamp).toBe(new Date(5000).toISOString());
  });
});
