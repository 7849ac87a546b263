// A container probe with Kubernetes' defaults filled in, and what its result means.
import type { Probe } from '../../proto/gen/skiff/v1/core.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

/**
 * Kubernetes defaults: periodSeconds 10, timeoutSeconds 1, successThreshold 1,
 * failureThreshold 3; values below the minimum (1) take the default, and liveness and startup
 * probes always use successThreshold 1.
 */
export function probeTiming(kind: ProbeKind, p: Probe): ProbeTiming {
  const pos = (v: number | undefined, d: number): number => (v !== undefined && v > 0 ? v : d);
  return {
    initialDelayMs: Math.max(0, p.initialDelaySeconds) * 1000,
    periodMs: pos(p.periodSeconds, 10) * 1000,
    timeoutMs: pos(p.timeoutSeconds, 1) * 1000,
    successThreshold: kind === 'readiness' ? pos(p.successThreshold, 1) : 1,
    failureThreshold: pos(p.failureThreshold, 3),
  };
}

/** Before its first verdict a probe reads as: liveness passing, readiness and startup not. */
export function initialResult(kind: ProbeKind): boolean {
  return kind === 'liveness';
}
