// Runs one probe of one container attempt on the agent's clock: waits initialDelay, then checks
// every period (each check bounded by timeout) and reports verdict changes. A startup probe
// stops after its first success; liveness and readiness run until stop().
import type { Clock, Timer } from '../../proto/api/clock.js';
import type { ProbeKind, ProbeTiming } from './spec.js';
import { initialResult } from './spec.js';
import { ThresholdState } from './threshold.js';

/** One check: resolves true on success, false on failure; may reject (= failure). */
export type ProbeCheck = (timeoutMs: number) => Promise<boolean>;

export interface ProbeWorkerOptions {
  kind: ProbeKind;
  timing: ProbeTiming;
  check: ProbeCheck;
  clock: Clock;
  /** Every outcome (for metrics). */
  onOutcome?: (ok: boolean) => void;
  /** Verdict changes: true = passing, false = failed its threshold. */
  onVerdict: (passing: boolean) => void;
}

export class ProbeWorker {
  private readonly state: ThresholdState;
  private timer: Timer | undefined;
  private stopped = false;
  private running = false;

  constructor(private readonly o: ProbeWorkerOptions) {
    this.state = new ThresholdState(o.timing.successThreshold, o.timing.failureThreshold, initialResult(o.kind));
  }

  get passing(): boolean {
    return this.state.verdict;
  }

  start(): void {
    this.schedule(this.o.timing.initialDelayMs);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    let ok: boolean;
    try {
      ok = await withTimeout(this.o.check(this.o.timing.timeoutMs), this.o.timing.timeoutMs, this.o.clock);
    } catch {
      ok = false;
    }
    this.running = false;
    if (this.stopped) return;
    this.o.onOutcome?.(ok);
    const flipped = this.state.record(ok);
    if (flipped !== undefined) this.o.onVerdict(flipped);
    if (this.stopped) return;
    if (this.o.kind === 'startup' && this.state.verdict) return;
    this.schedule(this.o.timing.periodMs);
  }
}

function withTimeout(p: Promise<boolean>, ms: number, clock: Clock): Promise<boolean> {
  return new Promise((resolve) => {
    const t = clock.setTimeout(() => resolve(false), ms);
    p.then(
      (v) => {
        t.cancel();
        resolve(v);
      },
      () => {
        t.cancel();
        resolve(false);
      },
    );
  });
}
