// Pod status from what the agent knows of the pod's containers: phase, the four conditions and
// per-container statuses, computed the kubelet's way. Pure: the worker feeds it a snapshot.
import type { Condition } from '../proto/gen/skiff/v1/meta.js';
import { PodStatus, type ContainerState, type ContainerStatus, type Pod } from '../proto/gen/skiff/v1/core.js';

export interface ContainerView {
  name: string;
  image: string;
  imageID: string;
  containerID: string;
  state: ContainerState;
  lastState?: ContainerState;
  ready: boolean;
  started?: boolean;
  restartCount: number;
}

export interface PodView {
  pod: Pod;
  containers: ContainerView[];
  /** One view per spec.initContainers entry, in order. */
  initContainers?: ContainerView[];
  /**
   * The pod ended for a reason of its own (activeDeadlineSeconds, eviction) or was already
   * terminal when the agent found it: this phase, reason and message win over the containers'.
   */
  final?: { phase: string; reason: string; message: string };
  podIP: string;
  hostIP: string;
  startTime: string;
  /** RFC 3339 "now" for condition transitions. */
  now: string;
  /** Reason/message for the whole pod (e.g. a sandbox that failed to start). */
  reason?: string;
  message?: string;
}

export function waiting(reason: string, message = ''): ContainerState {
  return { waiting: { reason, message } };
}

export function willRestart(policy: string, exitCode: number): boolean {
  if (policy === 'Never') return false;
  if (policy === 'OnFailure') return exitCode !== 0;
  return true;
}

/** An init container that ran to completion (exit 0). */
export function initDone(c: ContainerView): boolean {
  return c.state.terminated?.exitCode === 0;
}

/** The kubelet's getPhase over container states and the restart policy. */
export function podPhase(policy: string, containers: ContainerView[], initContainers: ContainerView[] = []): string {
  let pendingInit = 0;
  let failedInit = 0;
  for (const c of initContainers) {
    if (c.state.running) pendingInit++;
    else if (c.state.terminated) {
      if (c.state.terminated.exitCode !== 0) failedInit++;
    } else if (c.lastState?.terminated) {
      // Waiting to be restarted after a failure.
      if (c.lastState.terminated.exitCode !== 0) failedInit++;
    } else pendingInit++;
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInit > 0 || failedInit > 0) return 'Pending';
  let pending = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of containers) {
    if (c.state.running) running++;
    else if (c.state.terminated) {
      stopped++;
      if (c.state.terminated.exitCode === 0) succeeded++;
    } else if (c.lastState?.terminated) {
      // Waiting to restart after an exit: counts as stopped with its last exit.
      stopped++;
      if (c.lastState.terminated.exitCode === 0) succeeded++;
    } else pending++;
  }
  if (containers.length === 0) return 'Pending';
  if (pending > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped === containers.length) {
    if (policy === 'Never') return succeeded === stopped ? 'Succeeded' : 'Failed';
    if (policy === 'OnFailure') return succeeded === stopped ? 'Succeeded' : 'Running';
    return 'Running';
  }
  return 'Pending';
}

function condition(prev: Condition[], type: string, status: string, now: string, reason = '', message = ''): Condition {
  const old = prev.find((c) => c.type === type);
  const lastTransitionTime = old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now;
  return {
    type, status, reason, message, lastTransitionTime,
    lastUpdateTime: '', lastProbeTime: '', lastHeartbeatTime: '',
  };
}

export function computePodStatus(v: PodView): PodStatus {
  const prev = v.pod.status ?? PodStatus.fromPartial({});
  const policy = v.pod.spec?.restartPolicy || 'Always';
  const inits = v.initContainers ?? [];
  const phase = v.final?.phase ?? podPhase(policy, v.containers, inits);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const notReady = v.containers.filter((c) => !c.ready).map((c) => c.name);
  const allReady = v.containers.length > 0 && notReady.length === 0 && !terminal;
  const unready = terminal
    ? { reason: 'PodCompleted', message: '' }
    : { reason: 'ContainersNotReady', message: `containers with unready status: [${notReady.join(' ')}]` };
  const incomplete = inits.filter((c) => !initDone(c)).map((c) => c.name);
  const conds: Condition[] = [
    incomplete.length
      ? condition(prev.conditions, 'Initialized', 'False', v.now, 'ContainersNotInitialized', `containers with incomplete status: [${incomplete.join(' ')}]`)
      : condition(prev.conditions, 'Initialized', 'True', v.now),
    allReady
      ? condition(prev.conditions, 'Ready', 'True', v.now)
      : condition(prev.conditions, 'Ready', 'False', v.now, unready.reason, unready.message),
    allReady
      ? condition(prev.conditions, 'ContainersReady', 'True', v.now)
      : condition(prev.conditions, 'ContainersReady', 'False', v.now, unready.reason, unready.message),
    condition(prev.conditions, 'PodScheduled', 'True', v.now),
  ];
  const toStatus = (c: ContainerView): ContainerStatus => ({
    name: c.name,
    state: c.state,
    lastState: c.lastState ?? {},
    ready: c.ready,
    restartCount: c.restartCount,
    image: c.image,
    imageID: c.imageID,
    containerID: c.containerID,
    started: c.started,
  });
  return PodStatus.fromPartial({
    phase,
    conditions: conds,
    message: v.final?.message ?? v.message ?? '',
    reason: v.final?.reason ?? v.reason ?? '',
    hostIP: v.hostIP,
    podIP: v.podIP,
    startTime: v.startTime,
    containerStatuses: v.containers.map(toStatus),
    initContainerStatuses: inits.map(toStatus),
    qosClass: prev.qosClass,
  });
}

/** True when two statuses would serialise the same (so no write is needed). */
export function statusEqual(a: PodStatus | undefined, b: PodStatus | undefined): boolean {
  const ea = Buffer.from(PodStatus.encode(a ?? PodStatus.fromPartial({})).finish());
  const eb = Buffer.from(PodStatus.encode(b ?? PodStatus.fromPartial({})).finish());
  return ea.equals(eb);
}
