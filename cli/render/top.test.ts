import { describe, expect, it } from 'vitest';
import { HorizontalPodAutoscaler } from '../../proto/gen/skiff/v1/autoscaling.js';
import { Node } from '../../proto/gen/skiff/v1/core.js';
import { NodeMetrics, PodMetrics } from '../../proto/gen/skiff/v1/metrics.js';
import { hpaTargetsText } from '../../proto/api/columns/columns.js';
import { formatTable } from './table.js';
import { topNodesTable, topPodsTable } from '../../proto/api/columns/top.js';

describe('skiff top', () => {
  it('prints nodes like kubectl top nodes, percentages of allocatable', () => {
    const m = NodeMetrics.fromPartial({ metadata: { name: 'n1' }, usage: { cpu: '250000000n', memory: '524288Ki' } });
    const n = Node.fromPartial({ metadata: { name: 'n1' }, status: { allocatable: { cpu: '2', memory: '2Gi' } } });
    expect(formatTable(topNodesTable([m], [n])).split('\n')).toEqual([
      'NAME   CPU(cores)   CPU%   MEMORY(bytes)   MEMORY%',
      'n1     250m         12%    512Mi           25%',
    ]);
  });

  it('prints pods, with namespaces for -A and one line per container with --containers', () => {
    const p = PodMetrics.fromPartial({
      metadata: { name: 'web-1', namespace: 'a' },
      containers: [{ name: 'web', usage: { cpu: '120000000n', memory: '10240Ki' } }, { name: 'side', usage: { cpu: '5m', memory: '1Mi' } }],
    });
    expect(formatTable(topPodsTable([p], { withNamespace: false, containers: false })).split('\n')).toEqual([
      'NAME    CPU(cores)   MEMORY(bytes)',
      'web-1   125m         11Mi',
    ]);
    expect(formatTable(topPodsTable([p], { withNamespace: true, containers: true })).split('\n')).toEqual([
      'NAMESPACE   POD     NAME   CPU(cores)   MEMORY(bytes)',
      'a           web-1   web    120m         10Mi',
      'a           web-1   side   5m           1Mi',
    ]);
  });
});

describe('get hpa TARGETS', () => {
  const hpa = (current?: number): HorizontalPodAutoscaler => HorizontalPodAutoscaler.fromPartial({
    spec: { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    status: { currentMetrics: current === undefined ? [] : [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current, averageValue: '37m' } } }] },
  });
  it('shows current/target per metric, <unknown> before the first figure', () => {
    expect(hpaTargetsText(hpa(37))).toBe('cpu: 37%/50%');
    expect(hpaTargetsText(hpa())).toBe('cpu: <unknown>/50%');
  });
});
