// Time as the controllers see it. Injected so tests drive deadlines and backoff by hand
// instead of sleeping (and can assert exact delay sequences).
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls fn once after ms; the handle cancels it. */
  setTimer(fn: () => void, ms: number): TimerHandle;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    // A pending retry or deadline must not keep the process alive on its own.
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/**
 * A clock that only moves when told to: advance(ms) fires every timer due by then, in time
 * order. `timers` lists the delays asked for, so tests can assert backoff sequences.
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  /** Every delay passed to setTimer, in call order. */
  readonly delays: number[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const id = this.seq++;
    this.delays.push(ms);
    this.pending.set(id, { at: this.t + Math.max(0, ms), fn });
    return { cancel: () => this.pending.delete(id) };
  }

  /** Moves time forward by ms, firing due timers in order (each at its own due time). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.pending) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.pending.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }

  get pendingTimers(): number {
    return this.pending.size;
  }
}
