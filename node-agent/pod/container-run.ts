// What the agent knows of one container of a pod: the attempt running now, the one before (kept
// for its logs), restart history and back-off, and why it is not running yet.
import type { ContainerStateTerminated } from '../../proto/gen/skiff/v1/core.js';
import { CrashLoopBackoff, type BackoffOptions } from '../backoff.js';
import type { Timer } from '../../proto/api/clock.js';
import type { ContainerHandle, ContainerInfo, ExitResult } from '../runtime/runtime.js';

export interface ContainerRun {
  handle?: ContainerHandle;
  /** The attempt before handle, kept (exited) for its logs until the next restart. */
  previous?: ContainerHandle;
  /** running until an exit is seen. */
  exit?: ExitResult;
  /** Agent clock time the exit was seen (run length for the back-off reset). */
  exitSeenMs?: number;
  startedAt: string;
  startedAtMs: number;
  imageRef: string;
  restartCount: number;
  lastTerminated?: ContainerStateTerminated;
  /** Why the container is not running yet (ContainerCreating, ErrImagePull, ...). */
  waiting?: { reason: string; message: string };
  startFailures?: number;
  backoff: CrashLoopBackoff;
  /** Set while waiting out a back-off before the next start. */
  restartAt?: number;
  timer?: Timer;
  started: boolean;
  ready: boolean;
  abort?: AbortController;
  /** spec image the running attempt was started from (undefined: adopted, taken as current). */
  specImage?: string;
  /** Being stopped because its spec image changed: restart at once whatever the policy. */
  replacing?: boolean;
}

export function newRun(backoff: BackoffOptions, restartCount: number, lastTerminated?: ContainerStateTerminated): ContainerRun {
  return {
    startedAt: '', startedAtMs: 0, imageRef: '', restartCount, lastTerminated,
    backoff: new CrashLoopBackoff(backoff), started: false, ready: false,
  };
}

export function containerID(h: ContainerHandle): string {
  return `${h.runtime}://${h.containerId}`;
}

/** The exit of a container the runtime reports as exited. */
export function exitOf(info: ContainerInfo): ExitResult {
  return {
    exitCode: info.exitCode ?? 0, reason: info.reason, message: info.message, finishedAt: info.finishedAt,
    oomKilled: info.reason === 'OOMKilled',
  };
}

/** The run's exit as the API shows it (state.terminated / lastState.terminated). */
export function terminatedOf(run: ContainerRun): ContainerStateTerminated {
  const x = run.exit!;
  return {
    exitCode: x.exitCode,
    signal: 0,
    reason: x.oomKilled ? 'OOMKilled' : x.reason || (x.exitCode === 0 ? 'Completed' : 'Error'),
    message: x.message,
    startedAt: run.startedAt,
    finishedAt: x.finishedAt,
    containerID: run.handle ? containerID(run.handle) : '',
  };
}
