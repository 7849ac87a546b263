// Kubernetes' replica calculator (pkg/controller/podautoscaler/replica_calculator.go) for
// Resource metrics, as a pure function over a snapshot: the target's pods, their usage and
// requests, the clock. Figures are in milli-units (millicores, milli-bytes) as Kubernetes'
// metrics client reads them with MilliValue(), so integer divisions round as Kubernetes' do.

export interface PodSnapshot {
  name: string;
  /** Pending, Running, Succeeded, Failed, Unknown. */
  phase: string;
  deleting: boolean;
  /** The Ready condition, when the pod has one. */
  ready?: { status: string; lastTransitionMs: number };
  /** status.startTime; undefined when not started. */
  startTimeMs?: number;
  /**
   * Per container: its request of the resource in milli-units (undefined: no request). Only
   * the utilization target needs them.
   */
  requests: { container: string; milli: number | undefined }[];
}

export interface PodMetric {
  /** Usage of the resource summed over the pod's containers, milli-units. */
  milli: number;
  timestampMs: number;
  windowMs: number;
}

export interface CalculatorParams {
  /** 0.1: no change while |1 - ratio| <= tolerance (--horizontal-pod-autoscaler-tolerance). */
  tolerance: number;
  /** 5 min (--horizontal-pod-autoscaler-cpu-initialization-period). */
  cpuInitializationPeriodMs: number;
  /** 30 s (--horizontal-pod-autoscaler-initial-readiness-delay). */
  delayOfInitialReadinessStatusMs: number;
}

export const DEFAULT_CALCULATOR_PARAMS: CalculatorParams = {
  tolerance: 0.1,
  cpuInitializationPeriodMs: 5 * 60_000,
  delayOfInitialReadinessStatusMs: 30_000,
};

export interface ResourceInput {
  currentReplicas: number;
  resource: string;
  pods: PodSnapshot[];
  /** By pod name; pods absent here have no metrics. */
  metrics: Map<string, PodMetric>;
  nowMs: number;
  params?: CalculatorParams;
}

export interface UtilizationResult {
  replicas: number;
  /** Percentage of requests, over the pods with metrics (before missing/unready adjustments). */
  utilization: number;
  /** Average usage per pod, milli-units. */
  rawAverageMilli: number;
  timestampMs: number;
}

export interface AverageValueResult {
  replicas: number;
  /** Average usage per pod, milli-units. */
  averageMilli: number;
  timestampMs: number;
}

export class CalculatorError extends Error {}

interface Groups {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

/** groupPods: which pods count, which are unready, which lack metrics, which are ignored. */
export function groupPods(pods: PodSnapshot[], metrics: Map<string, PodMetric>, resource: string, nowMs: number, p: CalculatorParams): Groups {
  const g: Groups = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    if (pod.deleting || pod.phase === 'Failed') {
      g.ignored.add(pod.name);
      continue;
    }
    if (pod.phase === 'Pending') {
      g.unready.add(pod.name);
      continue;
    }
    const metric = metrics.get(pod.name);
    if (!metric) {
      g.missing.add(pod.name);
      continue;
    }
    if (resource === 'cpu') {
      let unready: boolean;
      const cond = pod.ready;
      if (!cond || pod.startTimeMs === undefined) {
        unready = true;
      } else if (pod.startTimeMs + p.cpuInitializationPeriodMs > nowMs) {
        // Within the initialization period: ignore it while unready, or until one full metric
        // window has passed since it last changed readiness.
        unready = cond.status === 'False' || metric.timestampMs < cond.lastTransitionMs + metric.windowMs;
      } else {
        // Later: ignore it only if it is unready and has never been ready.
        unready = cond.status === 'False' && pod.startTimeMs + p.delayOfInitialReadinessStatusMs > cond.lastTransitionMs;
      }
      if (unready) {
        g.unready.add(pod.name);
        continue;
      }
    }
    g.readyPodCount++;
  }
  return g;
}

/** calculatePodRequests: each pod's request summed over its containers; every container must request. */
function podRequests(pods: PodSnapshot[], resource: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    for (const c of pod.requests) {
      if (c.milli === undefined) throw new CalculatorError(`missing request for ${resource} in container ${c.container} of Pod ${pod.name}`);
      sum += c.milli;
    }
    out.set(pod.name, sum);
  }
  return out;
}

/** GetResourceUtilizationRatio. */
function utilizationRatio(metrics: Map<string, number>, requests: Map<string, number>, target: number): { ratio: number; utilization: number; rawAverage: number } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let entries = 0;
  for (const [pod, value] of metrics) {
    const req = requests.get(pod);
    if (req === undefined) continue;
    metricsTotal += value;
    requestsTotal += req;
    entries++;
  }
  if (requestsTotal === 0) throw new CalculatorError('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / target, utilization, rawAverage: Math.trunc(metricsTotal / entries) };
}

/** GetMetricUsageRatio. */
function usageRatio(metrics: Map<string, number>, target: number): { ratio: number; usage: number } {
  let total = 0;
  for (const v of metrics.values()) total += v;
  const usage = Math.trunc(total / metrics.size);
  return { ratio: usage / target, usage };
}

function prepare(input: ResourceInput): { g: Groups; values: Map<string, number>; p: CalculatorParams; timestampMs: number } {
  const p = input.params ?? DEFAULT_CALCULATOR_PARAMS;
  if (input.metrics.size === 0) throw new CalculatorError(`unable to get metrics for resource ${input.resource}: no metrics returned from resource metrics API`);
  if (input.pods.length === 0) throw new CalculatorError('no pods returned by selector while calculating replica count');
  const g = groupPods(input.pods, input.metrics, input.resource, input.nowMs, p);
  const values = new Map<string, number>();
  let timestampMs = 0;
  const known = new Set(input.pods.map((pod) => pod.name));
  for (const [name, m] of input.metrics) {
    if (!known.has(name) || g.ignored.has(name) || g.unready.has(name)) continue;
    values.set(name, m.milli);
    timestampMs = Math.max(timestampMs, m.timestampMs);
  }
  if (values.size === 0) throw new CalculatorError('did not receive metrics for targeted pods (pods might be unready)');
  return { g, values, p, timestampMs };
}

/**
 * GetResourceReplicas: replicas for a target average utilization (percent of requests).
 * Throws CalculatorError when there is nothing to compute from.
 */
export function resourceReplicas(input: ResourceInput, targetUtilization: number): UtilizationResult {
  const { g, values, p, timestampMs } = prepare(input);
  const requests = podRequests(input.pods, input.resource);
  const first = utilizationRatio(values, requests, targetUtilization);
  const base = { utilization: first.utilization, rawAverageMilli: first.rawAverage, timestampMs };
  const scaleUpWithUnready = g.unready.size > 0 && first.ratio > 1.0;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (Math.abs(1.0 - first.ratio) <= p.tolerance) return { ...base, replicas: input.currentReplicas };
    return { ...base, replicas: Math.ceil(first.ratio * g.readyPodCount) };
  }
  if (g.missing.size > 0) {
    if (first.ratio < 1.0) {
      // On a scale-down, pods without metrics count as using their whole request (or the target, above 100%).
      const fallback = Math.max(100, targetUtilization);
      for (const name of g.missing) values.set(name, Math.trunc(((requests.get(name) ?? 0) * fallback) / 100));
    } else if (first.ratio > 1.0) {
      for (const name of g.missing) values.set(name, 0);
    }
  }
  if (scaleUpWithUnready) for (const name of g.unready) values.set(name, 0);
  const next = utilizationRatio(values, requests, targetUtilization);
  return { ...base, replicas: afterFill(first.ratio, next.ratio, values.size, input.currentReplicas, p.tolerance) };
}

/**
 * Replicas once missing and unready pods are filled in: the current count when the filled-in
 * ratio is within tolerance, flips the direction of the first one, or would move the other way.
 */
function afterFill(firstRatio: number, nextRatio: number, pods: number, current: number, tolerance: number): number {
  if (Math.abs(1.0 - nextRatio) <= tolerance || (firstRatio > 1.0 && nextRatio < 1.0) || (firstRatio < 1.0 && nextRatio > 1.0)) return current;
  const replicas = Math.ceil(nextRatio * pods);
  if ((nextRatio < 1.0 && replicas > current) || (nextRatio > 1.0 && replicas < current)) return current;
  return replicas;
}

/** GetRawResourceReplicas (calcPlainMetricReplicas): replicas for a target average value per pod, milli-units. */
export function averageValueReplicas(input: ResourceInput, targetMilli: number): AverageValueResult {
  const { g, values, p, timestampMs } = prepare(input);
  const first = usageRatio(values, targetMilli);
  const base = { averageMilli: first.usage, timestampMs };
  const scaleUpWithUnready = g.unready.size > 0 && first.ratio > 1.0;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (Math.abs(1.0 - first.ratio) <= p.tolerance) return { ...base, replicas: input.currentReplicas };
    return { ...base, replicas: Math.ceil(first.ratio * g.readyPodCount) };
  }
  if (g.missing.size > 0) {
    const fill = first.ratio < 1.0 ? targetMilli : 0;
    for (const name of g.missing) values.set(name, fill);
  }
  if (scaleUpWithUnready) for (const name of g.unready) values.set(name, 0);
  const next = usageRatio(values, targetMilli);
  return { ...base, replicas: afterFill(first.ratio, next.ratio, values.size, input.currentReplicas, p.tolerance) };
}
