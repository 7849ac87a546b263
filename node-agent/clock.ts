// Time as the agent sees it. Every timer the agent sets (heartbeat, probes, restart back-off,
// retries) goes through a Clock, so tests drive time by hand instead of sleeping.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
};

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that only moves when advance() is called; due timers fire in time order. */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly pending: Pending[] = [];

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const p: Pending = { at: this.time + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.pending.push(p);
    return { cancel: () => void (p.cancelled = true) };
  }

  /** Delays (from now) of the timers still waiting, soonest first. */
  pendingDelays(): number[] {
    return this.live().map((p) => p.at - this.time);
  }

  /** Moves time forward by ms, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const next = this.live().find((p) => p.at <= end);
      if (!next) break;
      next.cancelled = true;
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = end;
    this.compact();
  }

  private live(): Pending[] {
    return this.pending.filter((p) => !p.cancelled).sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  private compact(): void {
    for (let i = this.pending.length - 1; i >= 0; i--) if (this.pending[i]!.cancelled) this.pending.splice(i, 1);
  }
}

/** Resolves after ms on the given clock. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      t.cancel();
      resolve();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
