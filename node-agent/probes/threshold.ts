// Turns single probe outcomes into a verdict: the verdict flips only after successThreshold
// consecutive successes or failureThreshold consecutive failures, as the kubelet's prober does.

export class ThresholdState {
  private successes = 0;
  private failures = 0;

  constructor(
    private readonly successThreshold: number,
    private readonly failureThreshold: number,
    public verdict: boolean,
  ) {}

  /** Records one outcome; returns the new verdict when it flipped, else undefined. */
  record(ok: boolean): boolean | undefined {
    if (ok) {
      this.failures = 0;
      this.successes++;
      if (!this.verdict && this.successes >= this.successThreshold) return this.set(true);
    } else {
      this.successes = 0;
      this.failures++;
      if (this.verdict && this.failures >= this.failureThreshold) return this.set(false);
      // A probe that never passed still reports its failure once the threshold is reached.
      if (!this.verdict && this.failures === this.failureThreshold) return false;
    }
    return undefined;
  }

  private set(v: boolean): boolean {
    this.verdict = v;
    this.successes = 0;
    this.failures = 0;
    return v;
  }
}
