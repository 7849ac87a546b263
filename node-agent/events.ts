// What the agent does, as typed events (for tests, benchmarks and metrics; not API Events).
import { EventEmitter } from 'node:events';

export interface AgentEventMap {
  /** A pod bound to this node reached the agent (its worker starts). */
  podSeen: [{ pod: string; uid: string }];
  /** The pod's sandbox was created (network namespace and IP ready). */
  sandboxReady: [{ pod: string; uid: string }];
  /** A container exited and will be restarted after delayMs. */
  backoff: [{ pod: string; container: string; delayMs: number; restartCount: number }];
  /** A container (re)started; attempt is its restart count. */
  containerStarted: [{ pod: string; container: string; attempt: number }];
  /** A container's preStop hook finished (ok false: it failed; the stop went on). */
  preStop: [{ pod: string; container: string; ok: boolean }];
  /** A probe failed its threshold and the container is being killed. */
  probeKill: [{ pod: string; container: string; probe: string }];
  /** The pod's sandbox is gone and its object confirmed deleted (or force-deleted already). */
  podTornDown: [{ pod: string; uid: string }];
  /** The pod failed on its own (DeadlineExceeded, Evicted): its containers are being stopped. */
  podFailed: [{ pod: string; reason: string; message: string }];
  /** Status written to the control plane. */
  statusPosted: [{ pod: string; phase: string }];
}

export class AgentEvents extends EventEmitter<AgentEventMap> {}
