// One sync of an autoscaler (horizontal.go's reconcileAutoscaler), pure: conditions, events
// and status as Kubernetes writes them.
import { describe, expect, it } from 'vitest';
import { HorizontalPodAutoscaler } from '../../../proto/gen/skiff/v1/autoscaling.js';
import { Pod } from '../../../proto/gen/skiff/v1/core.js';
import { emptyMemory } from './normalize.js';
import { afterRescale, plan, type HpaSnapshot, type PodUsage } from './reconcile.js';

const NOW = Date.parse('2026-12-02T03:00:00Z');
const LONG_AGO = '2026-12-02T02:00:00Z';

function hpa(over: Record<string, unknown> = {}): HorizontalPodAutoscaler {
  return HorizontalPodAutoscaler.fromPartial({
    metadata: { name: 'web', namespace: 'default', generation: 1 },
    spec: {
      scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      ...over,
    },
  });
}

function pod(name: string): Pod {
  return Pod.fromPartial({
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'web', resources: { requests: { cpu: '100m' }, limits: {} } }] },
    status: { phase: 'Running', startTime: LONG_AGO, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: LONG_AGO }] },
  });
}

const usage = (cpuMilli: number): PodUsage => ({ containers: new Map([['web', { cpu: cpuMilli }]]), timestampMs: NOW, windowMs: 10_000 });

function snap(over: Partial<HpaSnapshot> = {}): HpaSnapshot {
  return {
    hpa: hpa(), scale: { specReplicas: 2, hasSelector: true }, pods: [pod('a'), pod('b')],
    usage: new Map([['a', usage(90)], ['b', usage(110)]]), memory: emptyMemory(), nowMs: NOW, ...over,
  };
}

describe('plan', () => {
  it('scales up at 200% of a 50% target, with the event Kubernetes writes', () => {
    const d = plan(snap());
    expect(d).toMatchObject({ rescale: true, currentReplicas: 2, desiredReplicas: 4, reason: 'cpu resource utilization (percentage of request) above target' });
    expect(d.status.currentMetrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', current: { value: '', averageValue: '100m', averageUtilization: 100 } } }]);
    const done = afterRescale(hpa(), d, NOW);
    expect(done.events.at(-1)).toEqual({ type: 'Normal', reason: 'SuccessfulRescale', message: 'New size: 4; reason: cpu resource utilization (percentage of request) above target' });
    expect(done.status.lastScaleTime).toBe('2026-12-02T03:00:00Z');
    expect(done.status.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['AbleToScale', 'True', 'SucceededRescale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'False', 'DesiredWithinRange'],
    ]);
    expect(done.memory.recommendations).toEqual([{ replicas: 4, atMs: NOW }]);
  });

  it('keeps the size within the tolerance', () => {
    const d = plan(snap({ usage: new Map([['a', usage(52)], ['b', usage(53)]]) }));
    expect([d.rescale, d.desiredReplicas]).toEqual([false, 2]);
  });

  it('without metrics: <unknown> status, ScalingActive False FailedGetResourceMetric, no change', () => {
    const d = plan(snap({ usage: new Map() }));
    expect(d.rescale).toBe(false);
    expect(d.status.currentMetrics).toEqual([{ type: '', resource: undefined }]);
    expect(d.status.conditions.find((c) => c.type === 'ScalingActive')).toMatchObject({
      status: 'False', reason: 'FailedGetResourceMetric',
      message: 'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
    });
    expect(d.events.map((e) => e.reason)).toEqual(['FailedGetResourceMetric', 'FailedComputeMetricsReplicas']);
  });

  it('brings the size inside [min, max] first', () => {
    expect(plan(snap({ scale: { specReplicas: 12, hasSelector: true } }))).toMatchObject({ rescale: true, desiredReplicas: 10, reason: 'Current number of replicas above Spec.MaxReplicas' });
    expect(plan(snap({ hpa: hpa({ minReplicas: 3 }) }))).toMatchObject({ rescale: true, desiredReplicas: 3, reason: 'Current number of replicas below Spec.MinReplicas' });
  });

  it('leaves a target scaled to zero alone (ScalingDisabled)', () => {
    const d = plan(snap({ scale: { specReplicas: 0, hasSelector: true } }));
    expect(d.rescale).toBe(false);
    expect(d.status.conditions.find((c) => c.type === 'ScalingActive')?.reason).toBe('ScalingDisabled');
  });

  it('reports a missing target as AbleToScale False FailedGetScale', () => {
    const d = plan(snap({ scale: { error: 'deployments.apps "web" not found' } }));
    expect(d.status.conditions[0]).toMatchObject({ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale' });
    expect(d.events[0]).toMatchObject({ type: 'Warning', reason: 'FailedGetScale' });
  });

  it('a failed write keeps the size and says why', () => {
    const d = afterRescale(hpa(), plan(snap()), NOW, 'etcd is down');
    expect(d.status.desiredReplicas).toBe(2);
    expect(d.events.at(-1)?.message).toBe('New size: 4; reason: cpu resource utilization (percentage of request) above target; error: etcd is down');
    expect(d.status.conditions[0]).toMatchObject({ type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale' });
  });

  it('scales down on an AverageValue memory target once the behavior window allows it', () => {
    const h = hpa({
      metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [] } },
    });
    const mem = (mib: number): PodUsage => ({ containers: new Map([['web', { memory: mib * 1024 * 1024 * 1000 }]]), timestampMs: NOW, windowMs: 10_000 });
    const d = plan(snap({ hpa: h, usage: new Map([['a', mem(20)], ['b', mem(30)]]) }));
    expect(d).toMatchObject({ rescale: true, desiredReplicas: 1, reason: 'All metrics below target' });
    expect(d.status.currentMetrics[0]?.resource?.current?.averageValue).toBe(String(25 * 1024 * 1024));
  });
});
