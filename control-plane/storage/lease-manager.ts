// Expiring objects (Events) are written with an etcd lease, as kube-apiserver does for --event-ttl:
// etcd deletes them when the lease runs out, so no controller has to cache and time every event.
// One lease serves every write in a reuse window (kube-apiserver's leaseManager): its TTL is the
// object TTL plus the window, and it is handed out only while it still has the full TTL left,
// so an object lives between ttl and ttl + window after its last write.

export type GrantLease = (ttlSeconds: number) => Promise<string>;

export class LeaseManager {
  private current: { id: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly grant: GrantLease,
    readonly ttlSeconds: number,
    private readonly reuseSeconds = 60,
    private readonly now: () => number = Date.now,
  ) {}

  /** A lease that keeps a key written now for at least ttlSeconds. */
  leaseFor(): Promise<string> {
    const t = this.now();
    if (this.current && this.current.expiresAt - t >= this.ttlSeconds * 1000) return Promise.resolve(this.current.id);
    // Concurrent writes wait for one grant instead of each asking for a lease.
    this.pending ??= (async () => {
      try {
        const ttl = this.ttlSeconds + this.reuseSeconds;
        const id = await this.grant(ttl);
        this.current = { id, expiresAt: t + ttl * 1000 };
        return id;
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }
}
