// Setting one condition in a pod's or node's condition list the way Kubernetes does:
// lastTransitionTime only moves when the status flips, so it tells how long a state has held.
import type { Condition } from '../../../proto/gen/skiff/v1/meta.js';

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * Sets condition `type` in place; returns false when it already had this status, reason and
 * message (nothing to write).
 */
export function setCondition(
  conditions: Condition[],
  want: { type: string; status: string; reason: string; message: string },
  nowMs: number,
): boolean {
  const cur = conditions.find((c) => c.type === want.type);
  if (cur && cur.status === want.status && cur.reason === want.reason && cur.message === want.message) return false;
  const ts = rfc3339(nowMs);
  if (!cur) {
    conditions.push({ ...want, lastTransitionTime: ts, lastUpdateTime: '', lastProbeTime: ts, lastHeartbeatTime: '' });
    return true;
  }
  if (cur.status !== want.status) cur.lastTransitionTime = ts;
  cur.status = want.status;
  cur.reason = want.reason;
  cur.message = want.message;
  cur.lastProbeTime = ts;
  return true;
}
