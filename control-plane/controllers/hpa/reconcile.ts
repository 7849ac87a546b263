// One autoscaler sync (horizontal.go's reconcileAutoscaler) as a pure step: the HPA, its
// target's scale, the target's pods and their usage in; the replica count to set, the status,
// the events and the remembered recommendations out. The controller does the reading and the
// writing around it; afterRescale() folds the outcome of the write back in.
import { toMilli } from '../../../proto/api/quantity.js';
import type {
  HorizontalPodAutoscaler, HorizontalPodAutoscalerStatus, MetricSpec, MetricStatus,
} from '../../../proto/gen/skiff/v1/autoscaling.js';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import type { Condition } from '../../../proto/gen/skiff/v1/meta.js';
import { rfc3339, setCondition } from '../scheduler/conditions.js';
import { behaviorOf } from './behavior.js';
import {
  normalizeLegacy, normalizeWithBehavior, storeScaleEvent, type AutoscalerMemory, type ConditionSet,
} from './normalize.js';
import {
  averageValueReplicas, CalculatorError, resourceReplicas, type CalculatorParams, type PodMetric, type PodSnapshot,
} from './replica-calculator.js';

/** A pod's usage by container and resource, milli-units, as read from PodMetrics. */
export interface PodUsage {
  containers: Map<string, Partial<Record<string, number>>>;
  timestampMs: number;
  windowMs: number;
}

export interface ScaleTarget {
  /** spec.replicas of the Deployment. */
  specReplicas: number;
  /** The Deployment's selector matched these pods (the scale subresource's status.selector). */
  hasSelector: boolean;
}

export interface HpaSnapshot {
  hpa: HorizontalPodAutoscaler;
  /** The target's scale, or why it could not be read. */
  scale: ScaleTarget | { error: string };
  pods: Pod[];
  /** By pod name; an error when the metrics API could not be read at all. */
  usage: Map<string, PodUsage> | { error: string };
  memory: AutoscalerMemory;
  nowMs: number;
  params?: CalculatorParams;
}

export interface HpaEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface HpaDecision {
  /** Set spec.replicas of the target to desiredReplicas. */
  rescale: boolean;
  currentReplicas: number;
  desiredReplicas: number;
  /** Why, for the event: "cpu resource utilization (percentage of request) above target". */
  reason: string;
  status: HorizontalPodAutoscalerStatus;
  events: HpaEvent[];
  memory: AutoscalerMemory;
}

function condition(status: HorizontalPodAutoscalerStatus, c: ConditionSet | { type: string; status: string; reason: string; message: string }, nowMs: number): void {
  setCondition(status.conditions, c, nowMs);
}

/** The name horizontal.go gives a metric in reasons and messages. */
export function metricName(m: MetricSpec): string {
  const name = m.resource?.name ?? '';
  return m.resource?.target?.type === 'Utilization' ? `${name} resource utilization (percentage of request)` : `${name} resource`;
}

function quantityOf(resource: string, milli: number): string {
  return resource === 'cpu' ? `${milli}m` : `${Math.round(milli / 1000)}`;
}

function snapshotPods(pods: Pod[], resource: string): PodSnapshot[] {
  return pods.map((p) => {
    const ready = p.status?.conditions.find((c) => c.type === 'Ready');
    return {
      name: p.metadata?.name ?? '',
      phase: p.status?.phase ?? '',
      deleting: !!p.metadata?.deletionTimestamp,
      ready: ready ? { status: ready.status, lastTransitionMs: Date.parse(ready.lastTransitionTime) || 0 } : undefined,
      startTimeMs: p.status?.startTime ? Date.parse(p.status.startTime) : undefined,
      requests: (p.spec?.containers ?? []).map((c) => {
        const q = c.resources?.requests[resource];
        return { container: c.name, milli: q ? milliOf(resource, q) : undefined };
      }),
    };
  });
}

function milliOf(resource: string, q: string): number {
  // Kubernetes' MilliValue: CPU in millicores, memory in thousandths of a byte.
  return resource === 'cpu' ? toMilli(q) : Math.ceil(toMilli(q));
}

function podMetricsFor(usage: Map<string, PodUsage>, resource: string): Map<string, PodMetric> {
  const out = new Map<string, PodMetric>();
  for (const [pod, u] of usage) {
    let sum = 0;
    let complete = true;
    for (const c of u.containers.values()) {
      const v = c[resource];
      if (v === undefined) complete = false;
      else sum += v;
    }
    if (complete && u.containers.size > 0) out.set(pod, { milli: sum, timestampMs: u.timestampMs, windowMs: u.windowMs });
  }
  return out;
}

interface Proposal {
  replicas: number;
  status: MetricStatus;
  timestampMs: number;
}

/** computeStatusForResourceMetric: one metric's proposal, or why there is none. */
function proposeForMetric(s: HpaSnapshot, m: MetricSpec, currentReplicas: number): Proposal {
  const res = m.resource;
  if (m.type !== 'Resource' || !res) throw new CalculatorError(`metric type "${m.type}" is not supported`);
  const what = res.target?.type === 'Utilization' ? `${res.name} utilization` : `${res.name} usage`;
  if ('error' in s.usage) throw new CalculatorError(`failed to get ${what}: unable to get metrics for resource ${res.name}: ${s.usage.error}`);
  const input = {
    currentReplicas, resource: res.name, pods: snapshotPods(s.pods, res.name), metrics: podMetricsFor(s.usage, res.name), nowMs: s.nowMs, params: s.params,
  };
  try {
    if (res.target?.type === 'Utilization') {
      const r = resourceReplicas(input, res.target.averageUtilization ?? 0);
      return {
        replicas: r.replicas,
        timestampMs: r.timestampMs,
        status: { type: 'Resource', resource: { name: res.name, current: { value: '', averageValue: quantityOf(res.name, r.rawAverageMilli), averageUtilization: r.utilization } } },
      };
    }
    const r = averageValueReplicas(input, milliOf(res.name, res.target?.averageValue ?? '0'));
    return {
      replicas: r.replicas,
      timestampMs: r.timestampMs,
      status: { type: 'Resource', resource: { name: res.name, current: { value: '', averageValue: quantityOf(res.name, r.averageMilli), averageUtilization: undefined } } },
    };
  } catch (e) {
    if (e instanceof CalculatorError) throw new CalculatorError(`failed to get ${what}: ${e.message}`);
    throw e;
  }
}

export function plan(s: HpaSnapshot): HpaDecision {
  const hpa = s.hpa;
  const spec = hpa.spec;
  const prev = hpa.status;
  const status: HorizontalPodAutoscalerStatus = {
    observedGeneration: hpa.metadata?.generation ?? 0,
    lastScaleTime: prev?.lastScaleTime ?? '',
    currentReplicas: prev?.currentReplicas ?? 0,
    desiredReplicas: prev?.desiredReplicas ?? 0,
    currentMetrics: prev?.currentMetrics ?? [],
    conditions: (prev?.conditions ?? []).map((c): Condition => ({ ...c })),
  };
  const events: HpaEvent[] = [];
  const noChange = (currentReplicas: number): HpaDecision => ({ rescale: false, currentReplicas, desiredReplicas: currentReplicas, reason: '', status, events, memory: s.memory });

  if ('error' in s.scale) {
    const msg = `the HPA controller was unable to get the target's current scale: ${s.scale.error}`;
    events.push({ type: 'Warning', reason: 'FailedGetScale', message: s.scale.error });
    condition(status, { type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message: msg }, s.nowMs);
    return noChange(status.currentReplicas);
  }
  condition(status, { type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: "the HPA controller was able to get the target's current scale" }, s.nowMs);
  const currentReplicas = s.scale.specReplicas;
  const minReplicas = spec?.minReplicas ?? 1;
  const maxReplicas = spec?.maxReplicas ?? 0;
  status.currentReplicas = currentReplicas;

  let desired = 0;
  let reason = '';
  let rescale = true;
  let memory = s.memory;
  if (currentReplicas === 0 && minReplicas !== 0) {
    // Scaled to zero by hand: autoscaling is off until someone scales it up again.
    rescale = false;
    condition(status, { type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' }, s.nowMs);
  } else if (currentReplicas > maxReplicas) {
    reason = 'Current number of replicas above Spec.MaxReplicas';
    desired = maxReplicas;
  } else if (currentReplicas < minReplicas) {
    reason = 'Current number of replicas below Spec.MinReplicas';
    desired = minReplicas;
  } else {
    // computeReplicasForMetrics: the largest proposal over the valid metrics.
    const metrics = spec?.metrics ?? [];
    const statuses: MetricStatus[] = metrics.map(() => ({ type: '', resource: undefined }));
    let proposal = 0;
    let proposalName = '';
    let invalid = 0;
    let firstError = '';
    let firstInvalid: ConditionSet | { type: string; status: string; reason: string; message: string } | undefined;
    metrics.forEach((m, i) => {
      try {
        if (!s.scale || ('error' in s.scale) || !s.scale.hasSelector) {
          throw Object.assign(new CalculatorError('selector is required'), { reason: 'InvalidSelector' });
        }
        const p = proposeForMetric(s, m, currentReplicas);
        statuses[i] = p.status;
        if (p.replicas > proposal) {
          proposal = p.replicas;
          proposalName = metricName(m);
        }
      } catch (e) {
        if (!(e instanceof CalculatorError)) throw e;
        invalid++;
        const why = (e as CalculatorError & { reason?: string }).reason ?? 'FailedGetResourceMetric';
        if (!firstError) {
          firstError = e.message;
          firstInvalid = { type: 'ScalingActive', status: 'False', reason: why, message: `the HPA was unable to compute the replica count: ${e.message}` };
        }
        events.push({ type: 'Warning', reason: why, message: e.message });
      }
    });
    status.currentMetrics = statuses;
    if (invalid >= metrics.length || (invalid > 0 && proposal < currentReplicas)) {
      if (firstInvalid) condition(status, firstInvalid, s.nowMs);
      events.push({
        type: 'Warning',
        reason: 'FailedComputeMetricsReplicas',
        message: `invalid metrics (${invalid} invalid out of ${metrics.length}), first error is: ${firstError}`,
      });
      return noChange(currentReplicas);
    }
    condition(status, { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: `the HPA was able to successfully calculate a replica count from ${proposalName}` }, s.nowMs);
    desired = proposal;
    if (desired > currentReplicas) reason = `${proposalName} above target`;
    if (desired < currentReplicas) reason = 'All metrics below target';
    const behavior = behaviorOf(spec);
    const n = behavior
      ? normalizeWithBehavior(memory, behavior, currentReplicas, desired, minReplicas, maxReplicas, s.nowMs)
      : normalizeLegacy(memory, currentReplicas, desired, minReplicas, maxReplicas, s.nowMs);
    for (const c of n.conditions) condition(status, c, s.nowMs);
    memory = n.memory;
    desired = n.replicas;
    rescale = desired !== currentReplicas;
  }
  if (!rescale) desired = currentReplicas;
  status.desiredReplicas = desired;
  return { rescale, currentReplicas, desiredReplicas: desired, reason, status, events, memory };
}

/** Folds the outcome of writing the target's replicas into the decision (horizontal.go after Scales().Update). */
export function afterRescale(hpa: HorizontalPodAutoscaler, d: HpaDecision, nowMs: number, error?: string): HpaDecision {
  const status = { ...d.status, conditions: d.status.conditions.map((c) => ({ ...c })) };
  const events = [...d.events];
  if (error !== undefined) {
    events.push({ type: 'Warning', reason: 'FailedRescale', message: `New size: ${d.desiredReplicas}; reason: ${d.reason}; error: ${error}` });
    condition(status, { type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale', message: `the HPA controller was unable to update the target scale: ${error}` }, nowMs);
    status.desiredReplicas = d.currentReplicas;
    return { ...d, status, events, desiredReplicas: d.currentReplicas };
  }
  condition(status, { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${d.desiredReplicas}` }, nowMs);
  events.push({ type: 'Normal', reason: 'SuccessfulRescale', message: `New size: ${d.desiredReplicas}; reason: ${d.reason}` });
  status.lastScaleTime = rfc3339(nowMs);
  return { ...d, status, events, memory: storeScaleEvent(d.memory, behaviorOf(hpa.spec), d.currentReplicas, d.desiredReplicas, nowMs) };
}
