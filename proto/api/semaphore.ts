// A counting semaphore: at most `limit` holders at once, the rest wait in arrival order. The
// agent bounds its parallel CRI start calls with it (containerd starts fewer at a time faster
// than all at once); the benchmarks use it to measure that.
export class Semaphore {
  private held = 0;
  private readonly waiting: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`semaphore limit must be a whole number >= 1, got ${limit}`);
  }

  /** Holders now. */
  get inUse(): number {
    return this.held;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves once no one holds or waits for a slot (at once when that is so now). */
  idle(): Promise<void> {
    if (this.held === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Runs fn holding one slot; the slot is released however fn ends. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.held < this.limit) {
      this.held++;
      return Promise.resolve();
    }
    // The slot passes straight from the releaser to the next waiter (held stays the same).
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) {
      next();
      return;
    }
    this.held--;
    if (this.held === 0 && this.idleWaiters.length) {
      const idle = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of idle) r();
    }
  }
}
