// CrashLoopBackOff timing, as the kubelet does it: the first restart of a failed container is
// immediate, each further one waits the initial delay doubled per crash up to the maximum, and
// a container that ran for resetAfter without failing starts again from an immediate restart.
// Failed starts (image pulls, config errors) wait from the initial delay, like the kubelet's
// image back-off. Unlike Kubernetes (kubernetes/kubernetes#57291) both ends are configurable.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** A run at least this long resets the delay to initialMs. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };

export class CrashLoopBackoff {
  private current = 0;
  private crashed = false;

  constructor(private readonly opts: BackoffOptions = DEFAULT_BACKOFF) {}

  /** The delay before restarting a container that just exited after running ranMs. */
  afterCrash(ranMs: number): number {
    if (ranMs >= this.opts.resetAfterMs) this.reset();
    if (!this.crashed) {
      this.crashed = true;
      return 0;
    }
    return this.grow();
  }

  /** The delay before retrying a start that failed (pull, config): never immediate. */
  afterFailedStart(): number {
    return this.grow();
  }

  /** The delay last handed out (0 before the first back-off). */
  get delayMs(): number {
    return this.current;
  }

  reset(): void {
    this.current = 0;
    this.crashed = false;
  }

  private grow(): number {
    this.current = this.current === 0 ? this.opts.initialMs : Math.min(this.current * 2, this.opts.maxMs);
    return this.current;
  }
}

/** Kubernetes' message for a container waiting out its back-off. */
export function backoffMessage(delayMs: number, containerName: string, podName: string, podNamespace: string, podUid: string): string {
  return `back-off ${formatDuration(delayMs)} restarting failed container=${containerName} pod=${podName}_${podNamespace}(${podUid})`;
}

/** Go's time.Duration String() for whole seconds: 10s, 1m20s, 5m0s. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  return `${Math.floor(m / 60)}h${m % 60}m${s % 60}s`;
}
