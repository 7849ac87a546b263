// The pod's status from the worker's state: one ContainerView per container (running, waiting
// with its reason, CrashLoopBackOff, terminated), then the pure computation in pod-status.ts.
import type { ContainerState, Pod, PodStatus } from '../../proto/gen/skiff/v1/core.js';
import { backoffMessage } from '../backoff.js';
import { computePodStatus, initDone, waiting, type ContainerView } from '../pod-status.js';
import { containerID, terminatedOf } from './container-run.js';
import type { PodState } from './state.js';

/**
 * Views of the init containers (init) or the app containers. Like the kubelet, a container not
 * created yet waits with PodInitializing while init containers run (and an init container
 * being created shows the same), else ContainerCreating.
 */
export function containerViews(s: PodState, init = false, initializing = false): ContainerView[] {
  const m = s.pod.metadata!;
  const specs = (init ? s.pod.spec?.initContainers : s.pod.spec?.containers) ?? [];
  const creating = init || initializing ? 'PodInitializing' : 'ContainerCreating';
  return specs.map((c): ContainerView => {
    const run = s.runs.get(c.name);
    const base = { name: c.name, image: c.image, imageID: run?.imageRef ?? '', restartCount: run?.restartCount ?? 0 };
    if (!run) return { ...base, containerID: '', state: waiting(creating), ready: false, started: false };
    const last: ContainerState | undefined = run.lastTerminated ? { terminated: run.lastTerminated } : undefined;
    const id = run.handle ? containerID(run.handle) : '';
    if (run.handle && !run.exit) {
      return {
        ...base, containerID: id, state: { running: { startedAt: run.startedAt } }, lastState: last,
        ready: run.ready, started: run.started,
      };
    }
    if (run.handle && run.exit) {
      const term = terminatedOf(run);
      if (run.restartAt !== undefined) {
        const msg = backoffMessage(run.backoff.delayMs, c.name, m.name, m.namespace, m.uid);
        return { ...base, containerID: id, state: waiting('CrashLoopBackOff', msg), lastState: { terminated: term }, ready: false, started: false };
      }
      // A completed init container counts as ready, as the kubelet reports it.
      return { ...base, containerID: id, state: { terminated: term }, lastState: last, ready: init && term.exitCode === 0, started: false };
    }
    const w = !run.waiting || run.waiting.reason === 'ContainerCreating' ? { reason: creating, message: '' } : run.waiting;
    return { ...base, containerID: '', state: waiting(w.reason, w.message), lastState: last, ready: false, started: false };
  });
}

/**
 * The status the pod should have now. prev is the last status computed (or the stored one):
 * conditions keep their lastTransitionTime from it.
 */
export function podStatusOf(s: PodState, prev: PodStatus | undefined, hostIP: string, now: string): PodStatus {
  const pod: Pod = { ...s.pod, status: prev ?? s.pod.status };
  const initContainers = containerViews(s, true);
  return computePodStatus({
    pod,
    containers: containerViews(s, false, !initContainers.every(initDone)),
    initContainers,
    final: s.final,
    podIP: s.pod.spec?.hostNetwork ? hostIP : (s.record.sandbox?.podIP ?? ''),
    hostIP,
    startTime: s.record.startTime,
    now,
    reason: s.podError?.reason,
    message: s.podError?.message,
  });
}
