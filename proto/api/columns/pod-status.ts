// The STATUS, READY and RESTARTS columns of `get pods`, following kubectl's printPod: the
// waiting or terminated reason of the last container that has one beats the phase, init
// containers show "Init:n/m", a set deletionTimestamp shows Terminating, a Failed pod with a
// reason (DeadlineExceeded, Evicted) shows that reason. Skiff adds the last
// exit code to CrashLoopBackOff, which is the first thing one wants to know.
import type { ContainerStatus, Pod } from '../../gen/skiff/v1/core.js';
import { humanDuration } from './age.js';

function lastExitCode(cs: ContainerStatus): number | undefined {
  return cs.lastState?.terminated?.exitCode ?? cs.state?.terminated?.exitCode;
}

function waitingReason(cs: ContainerStatus): string {
  const reason = cs.state?.waiting?.reason ?? '';
  if (reason === 'CrashLoopBackOff') {
    const code = lastExitCode(cs);
    return code === undefined ? reason : `${reason} (exit ${code})`;
  }
  return reason;
}

export function podStatus(pod: Pod): string {
  const status = pod.status;
  let reason = status?.reason || status?.phase || 'Pending';
  const specInits = pod.spec?.initContainers.length ?? 0;
  let initializing = false;
  (status?.initContainerStatuses ?? []).forEach((cs, i) => {
    if (initializing) return;
    const term = cs.state?.terminated;
    if (term && term.exitCode === 0) return;
    initializing = true;
    if (term) {
      if (term.reason) reason = `Init:${term.reason}`;
      else reason = term.signal !== 0 ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
    } else if (cs.state?.waiting?.reason && cs.state.waiting.reason !== 'PodInitializing') {
      reason = `Init:${waitingReason(cs)}`;
    } else reason = `Init:${i}/${specInits}`;
  });
  if (!initializing) {
    let hasRunning = false;
    const statuses = status?.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      if (!cs) continue;
      const term = cs.state?.terminated;
      if (cs.state?.waiting?.reason) reason = waitingReason(cs);
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal !== 0 ? `Signal:${term.signal}` : `ExitCode:${term.exitCode}`;
      else if (cs.ready && cs.state?.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }
  // A pod the node failed on its own account (DeadlineExceeded, Evicted): its containers were
  // stopped for that reason, so their exits (Completed, Error) would hide why.
  if (status?.phase === 'Failed' && status.reason) reason = status.reason;
  if (pod.metadata?.deletionTimestamp) reason = status?.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

export function podReady(pod: Pod): string {
  const total = pod.spec?.containers.length ?? 0;
  const ready = (pod.status?.containerStatuses ?? []).filter((c) => c.ready).length;
  return `${ready}/${total}`;
}

/** "3" or "3 (2m ago)" like kubectl 1.22+, the age of the last restart in brackets. */
export function podRestarts(pod: Pod, now: number): string {
  let restarts = 0;
  let last = 0;
  for (const cs of pod.status?.containerStatuses ?? []) {
    restarts += cs.restartCount;
    const t = Date.parse(cs.lastState?.terminated?.finishedAt ?? '');
    if (!Number.isNaN(t)) last = Math.max(last, t);
  }
  return restarts > 0 && last > 0 ? `${restarts} (${humanDuration(now - last)} ago)` : String(restarts);
}

/** Why a pod is not ready, in a few words, for the rollout view ("CrashLoopBackOff (exit 1)"). */
export function podNotReadyWhy(pod: Pod): string {
  const s = podStatus(pod);
  if (s !== 'Running') return s;
  const notReady = (pod.status?.containerStatuses ?? []).filter((c) => !c.ready).map((c) => c.name);
  if (notReady.length) return `Running, not ready: ${notReady.join(', ')}`;
  return 'Running, waiting for the Ready condition';
}

export function podIsReady(pod: Pod): boolean {
  return pod.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
