// Expectations (kubernetes controller_utils.go): a controller records the creates and deletes
// it has issued for a key and does not act on that key again until its informer cache has
// seen them all (or they expire), so a cache that lags behind its own writes never makes it
// create or delete twice. Deletions are tracked by pod key (UIDTrackingControllerExpectations):
// the "terminating" update and the final delete of one pod count once.

/** Kubernetes' ExpectationsTimeout: an expectation older than this no longer blocks. */
export const EXPECTATIONS_TTL_MS = 5 * 60 * 1000;

interface Expectation {
  add: number;
  del: number;
  at: number;
  deleting: Set<string>;
}

export class Expectations {
  private readonly byKey = new Map<string, Expectation>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = EXPECTATIONS_TTL_MS,
  ) {}

  /** True when nothing is pending for key (or what is pending has expired). */
  satisfied(key: string): boolean {
    const e = this.byKey.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.now() - e.at > this.ttlMs;
  }

  expectCreations(key: string, n: number): void {
    this.byKey.set(key, { add: n, del: 0, at: this.now(), deleting: new Set() });
  }

  /** Expects the deletion of these object keys ("namespace/name"). */
  expectDeletions(key: string, objectKeys: readonly string[]): void {
    this.byKey.set(key, { add: 0, del: objectKeys.length, at: this.now(), deleting: new Set(objectKeys) });
  }

  creationObserved(key: string): void {
    const e = this.byKey.get(key);
    if (e) e.add--;
  }

  /** Counts one deletion of objectKey, once, if it was expected. */
  deletionObserved(key: string, objectKey: string): void {
    const e = this.byKey.get(key);
    if (e?.deleting.delete(objectKey)) e.del--;
  }

  /** What is still pending (for logs and tests). */
  pending(key: string): { add: number; del: number } | undefined {
    const e = this.byKey.get(key);
    return e ? { add: e.add, del: e.del } : undefined;
  }

  delete(key: string): void {
    this.byKey.delete(key);
  }
}
