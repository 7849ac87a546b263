// Time as controllers and the node agent see it. Every timer they set (deadlines, retries,
// heartbeats, probes, restart back-off) goes through a Clock, so tests drive time by hand
// instead of sleeping (and can assert exact delay sequences).
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls fn once after ms; the handle cancels it. */
  setTimeout(fn: () => void, ms: number): Timer;
}

/** Node's setTimeout takes at most 2^31-1 ms (24.8 days); a longer delay fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    // A delay past Node's limit (a certificate renewal months away) waits in steps, so it
    // never collapses to 1 ms.
    const due = Date.now() + Math.max(0, ms);
    let t: ReturnType<typeof setTimeout>;
    const arm = (left: number): void => {
      t = setTimeout(() => {
        const rest = due - Date.now();
        if (rest > 0 && left > MAX_TIMER_MS) arm(rest);
        else fn();
      }, Math.min(left, MAX_TIMER_MS));
      // A pending retry or deadline must not keep the process alive on its own.
      t.unref();
    };
    arm(Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
};

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to: advance(ms) fires every timer due by then, in time
 * order (ties in the order they were set). `delays` lists the delays asked for, so tests can
 * assert backoff sequences.
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  /** Every delay passed to setTimeout, in call order. */
  readonly delays: number[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const seq = this.seq++;
    this.delays.push(ms);
    this.pending.set(seq, { at: this.time + Math.max(0, ms), seq, fn });
    return { cancel: () => void this.pending.delete(seq) };
  }

  /** Moves time forward by ms, firing due timers in order (each at its own due time). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      // Map order is set order, so a strict < keeps ties in the order they were set.
      let next: Pending | undefined;
      for (const p of this.pending.values()) if (p.at <= end && (!next || p.at < next.at)) next = p;
      if (!next) break;
      this.pending.delete(next.seq);
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = end;
  }

  get pendingTimers(): number {
    return this.pending.size;
  }

  /** Delays (from now) of the timers still waiting, soonest first. */
  pendingDelays(): number[] {
    return this.live().map((p) => p.at - this.time);
  }

  private live(): Pending[] {
    return [...this.pending.values()].sort((a, b) => a.at - b.at || a.seq - b.seq);
  }
}

/** Resolves after ms on the given clock, or at once when signal aborts. */
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
