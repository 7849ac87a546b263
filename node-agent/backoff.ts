// CrashLoopBackOff timing, as the kubelet does it: the first restart of a failed container
// waits the initial delay, each further one doubles it up to the maximum, and a container that
// ran for resetAfter without failing starts again from the initial delay. Unlike Kubernetes
// (kubernetes/kubernetes#57291) both ends are configurable.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** A run at least this long resets the delay to initialMs. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };

export class CrashLoopBackoff {
  private current = 0;

  constructor(private readonly opts: BackoffOptions = DEFAULT_BACKOFF) {}

  /** The delay before restarting a container that just exited after running ranMs. */
  next(ranMs: number): number {
    if (ranMs >= this.opts.resetAfterMs) this.current = 0;
    this.current = this.current === 0 ? this.opts.initialMs : Math.min(this.current * 2, this.opts.maxMs);
    return this.current;
  }

  /** The delay last handed out (0 before the first failure). */
  get delayMs(): number {
    return this.current;
  }

  reset(): void {
    this.current = 0;
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
