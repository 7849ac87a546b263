// Kubernetes' EventSourceObjectSpamFilter (client-go tools/record): each (source, involved
// object, type, reason) gets a token bucket of 25 events refilled at one per 5 minutes; events
// beyond it are dropped. A ReplicaSet creating 1,000 pods therefore leaves 25 SuccessfulCreate
// events, not 1,000, while a rare Warning about the same object still gets through.
import type { ObjectReference } from '../../proto/gen/skiff/v1/meta.js';

export const SPAM_BURST = 25;
export const SPAM_REFILL_PER_SECOND = 1 / 300;
const MAX_TRACKED = 4096;

interface Bucket {
  tokens: number;
  at: number;
}

export class EventSpamFilter {
  /** Insertion-ordered: the oldest key goes first when full (an LRU, as client-go's). */
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly now: () => number,
    private readonly burst = SPAM_BURST,
    private readonly refillPerSecond = SPAM_REFILL_PER_SECOND,
  ) {}

  /** Whether an event from this source about ref may be written now (takes a token if so). */
  allow(source: string, ref: ObjectReference, type: string, reason: string): boolean {
    const key = [source, ref.kind, ref.namespace, ref.name, ref.uid, ref.apiVersion, type, reason].join('\u0000');
    const t = this.now();
    const prev = this.buckets.get(key);
    const b: Bucket = prev
      ? { tokens: Math.min(this.burst, prev.tokens + ((t - prev.at) / 1000) * this.refillPerSecond), at: t }
      : { tokens: this.burst, at: t };
    this.buckets.delete(key);
    if (this.buckets.size >= MAX_TRACKED) this.buckets.delete(this.buckets.keys().next().value as string);
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    this.buckets.set(key, b);
    return ok;
  }
}
