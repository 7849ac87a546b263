// Kubernetes' replica normalization (pkg/controller/podautoscaler/horizontal.go): stabilizing
// recommendations over a window and limiting the rate of change by the behavior's policies,
// or, without a behavior, the older rules (5-minute downscale stabilization, at most double or
// +4). Pure: the remembered recommendations and scale events come in and go out as values.

export interface ScalingPolicy {
  /** Pods or Percent. */
  type: string;
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds: number;
  /** Max, Min or Disabled. */
  selectPolicy: string;
  policies: ScalingPolicy[];
}

export interface Behavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

export interface Recommendation {
  replicas: number;
  atMs: number;
}

export interface ScaleEvent {
  change: number;
  atMs: number;
  outdated: boolean;
}

/** What the controller remembers per autoscaler between syncs (Kubernetes keeps it in memory too). */
export interface AutoscalerMemory {
  recommendations: Recommendation[];
  scaleUpEvents: ScaleEvent[];
  scaleDownEvents: ScaleEvent[];
}

export function emptyMemory(): AutoscalerMemory {
  return { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };
}

export interface ConditionSet {
  type: 'AbleToScale' | 'ScalingLimited';
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface Normalized {
  replicas: number;
  conditions: ConditionSet[];
  memory: AutoscalerMemory;
}

/** --horizontal-pod-autoscaler-downscale-stabilization. */
export const DOWNSCALE_STABILIZATION_MS = 5 * 60_000;

function record(recs: Recommendation[], replicas: number, nowMs: number, oldIndex: number | undefined): Recommendation[] {
  const out = recs.map((r) => ({ ...r }));
  if (oldIndex !== undefined) out[oldIndex] = { replicas, atMs: nowMs };
  else out.push({ replicas, atMs: nowMs });
  return out;
}

/** normalizeDesiredReplicas: the rules for an autoscaler without spec.behavior. */
export function normalizeLegacy(memory: AutoscalerMemory, current: number, desired: number, minReplicas: number, maxReplicas: number, nowMs: number): Normalized {
  // stabilizeRecommendation: the highest recommendation of the window.
  let stabilized = desired;
  let oldIndex: number | undefined;
  const cutoff = nowMs - DOWNSCALE_STABILIZATION_MS;
  memory.recommendations.forEach((r, i) => {
    if (r.atMs < cutoff) oldIndex = i;
    else if (r.replicas > stabilized) stabilized = r.replicas;
  });
  const conditions: ConditionSet[] = [stabilized !== desired
    ? { type: 'AbleToScale', status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' }
    : { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' }];
  // convertDesiredReplicasWithRules.
  const scaleUpLimit = Math.max(2 * current, 4);
  let maxAllowed: number;
  let reason: string;
  let message: string;
  if (maxReplicas > scaleUpLimit) {
    maxAllowed = scaleUpLimit;
    reason = 'ScaleUpLimit';
    message = 'the desired replica count is increasing faster than the maximum scale rate';
  } else {
    maxAllowed = maxReplicas;
    reason = 'TooManyReplicas';
    message = 'the desired replica count is more than the maximum replica count';
  }
  let minAllowed = minReplicas;
  if (minReplicas === 0) {
    minAllowed = 1;
    message = 'the desired replica count is zero';
  }
  let replicas = stabilized;
  if (stabilized < minAllowed) {
    replicas = minAllowed;
    reason = 'TooFewReplicas';
    message = 'the desired replica count is less than the minimum replica count';
  } else if (stabilized > maxAllowed) {
    replicas = maxAllowed;
  } else {
    reason = 'DesiredWithinRange';
    message = 'the desired count is within the acceptable range';
  }
  conditions.push({ type: 'ScalingLimited', status: replicas === stabilized ? 'False' : 'True', reason, message });
  return { replicas, conditions, memory: { ...memory, recommendations: record(memory.recommendations, desired, nowMs, oldIndex) } };
}

/** getReplicasChangePerPeriod. */
function changeInPeriod(periodSeconds: number, events: ScaleEvent[], nowMs: number): number {
  const cutoff = nowMs - periodSeconds * 1000;
  let n = 0;
  for (const e of events) if (e.atMs > cutoff) n += e.change;
  return n;
}

/** calculateScaleUpLimitWithScalingRules. */
export function scaleUpLimit(current: number, up: ScaleEvent[], down: ScaleEvent[], rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pickMin = rules.selectPolicy === 'Min';
  let result = pickMin ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(p.periodSeconds, up, nowMs) + changeInPeriod(p.periodSeconds, down, nowMs);
    // Rounded up, or a small target could never grow by a percentage.
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pickMin ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** calculateScaleDownLimitWithBehaviors. */
export function scaleDownLimit(current: number, up: ScaleEvent[], down: ScaleEvent[], rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pickMin = rules.selectPolicy === 'Min';
  let result = pickMin ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(p.periodSeconds, up, nowMs) + changeInPeriod(p.periodSeconds, down, nowMs);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pickMin ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** normalizeDesiredReplicasWithBehaviors. */
export function normalizeWithBehavior(memory: AutoscalerMemory, b: Behavior, current: number, desired: number, minReplicas: number, maxReplicas: number, nowMs: number): Normalized {
  // stabilizeRecommendationWithBehaviors: within [lowest recent up, highest recent down].
  let upRec = desired;
  let downRec = desired;
  const upCutoff = nowMs - b.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = nowMs - b.scaleDown.stabilizationWindowSeconds * 1000;
  let oldIndex: number | undefined;
  memory.recommendations.forEach((r, i) => {
    if (r.atMs > upCutoff) upRec = Math.min(r.replicas, upRec);
    if (r.atMs > downCutoff) downRec = Math.max(r.replicas, downRec);
    if (r.atMs < upCutoff && r.atMs < downCutoff) oldIndex = i;
  });
  let stabilized = current;
  if (stabilized < upRec) stabilized = upRec;
  if (stabilized > downRec) stabilized = downRec;
  const conditions: ConditionSet[] = [];
  if (stabilized !== desired) {
    conditions.push(desired >= current
      ? { type: 'AbleToScale', status: 'True', reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
      : { type: 'AbleToScale', status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' });
  } else {
    conditions.push({ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' });
  }
  // convertDesiredReplicasWithBehaviorRate.
  let replicas = stabilized;
  let reason = 'DesiredWithinRange';
  let message = 'the desired count is within the acceptable range';
  if (stabilized > current) {
    const limit = Math.max(current, scaleUpLimit(current, memory.scaleUpEvents, memory.scaleDownEvents, b.scaleUp, nowMs));
    let maxAllowed = maxReplicas;
    let r = 'TooManyReplicas';
    let m = 'the desired replica count is more than the maximum replica count';
    if (maxAllowed > limit) {
      maxAllowed = limit;
      r = 'ScaleUpLimit';
      m = 'the desired replica count is increasing faster than the maximum scale rate';
    }
    if (stabilized > maxAllowed) [replicas, reason, message] = [maxAllowed, r, m];
  } else if (stabilized < current) {
    const limit = Math.min(current, scaleDownLimit(current, memory.scaleUpEvents, memory.scaleDownEvents, b.scaleDown, nowMs));
    let minAllowed = minReplicas;
    let r = 'TooFewReplicas';
    let m = 'the desired replica count is less than the minimum replica count';
    if (minAllowed < limit) {
      minAllowed = limit;
      r = 'ScaleDownLimit';
      m = 'the desired replica count is decreasing faster than the maximum scale rate';
    }
    if (stabilized < minAllowed) [replicas, reason, message] = [minAllowed, r, m];
  }
  conditions.push({ type: 'ScalingLimited', status: replicas === stabilized ? 'False' : 'True', reason, message });
  return { replicas, conditions, memory: { ...memory, recommendations: record(memory.recommendations, desired, nowMs, oldIndex) } };
}

function longestPeriodSeconds(rules: ScalingRules): number {
  return rules.policies.reduce((m, p) => Math.max(m, p.periodSeconds), 0);
}

/** storeScaleEvent: remembers a rescale for the rate limits (behavior only), reusing an outdated slot. */
export function storeScaleEvent(memory: AutoscalerMemory, b: Behavior | undefined, prev: number, next: number, nowMs: number): AutoscalerMemory {
  if (!b || prev === next) return memory;
  const up = next > prev;
  const rules = up ? b.scaleUp : b.scaleDown;
  const cutoff = nowMs - longestPeriodSeconds(rules) * 1000;
  const events = (up ? memory.scaleUpEvents : memory.scaleDownEvents).map((e) => ({ ...e, outdated: e.outdated || e.atMs < cutoff }));
  const fresh: ScaleEvent = { change: Math.abs(next - prev), atMs: nowMs, outdated: false };
  const slot = events.findIndex((e) => e.outdated);
  if (slot >= 0) events[slot] = fresh;
  else events.push(fresh);
  return up ? { ...memory, scaleUpEvents: events } : { ...memory, scaleDownEvents: events };
}
