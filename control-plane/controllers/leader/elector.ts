// Leader election among any number of control-plane processes over one etcd key. Each
// candidate holds an etcd lease (TTL default 10 s) and keeps it alive; the leader is whoever
// created the key (txn `Create == 0`) with its lease attached. When the leader's process dies
// its lease expires, etcd deletes the key and a follower (watching the key) creates it anew.
//
// Safety before liveness: a leader stops leading at the moment it can no longer prove its lease
// is alive, i.e. when the TTL measured from the last keepalive it *sent* (before etcd started
// the new TTL) has run out, or at once when it sees the key deleted or taken. etcd cannot
// expire the lease earlier than that, so two processes never run the controllers together --
// as long as the process is not paused and clocks run at the same rate. For the cases where
// they do not (SIGSTOP, a VM stall), every write of a term is fenced: conditional on the
// election key's create revision of that term (storage/fence.ts), so it fails once etcd has
// expired the lease, whatever the old leader believes.
import type { Etcd3, Watcher } from 'etcd3';
import type { IKeyValue } from 'etcd3/lib/rpc.js';
import type { Fence } from '../../storage/fence.js';
import { deadline, grantLease, keepAliveOnce, revokeLease } from './lease-session.js';

export interface LeaderElectorOptions {
  client: Etcd3;
  /** Election name; one leader per name (and prefix). */
  name: string;
  /** This candidate, e.g. hostname and pid; recorded in the key for `currentLeader`. */
  identity: string;
  /** Lease TTL; default 10 s. Leadership moves within about this long after the leader dies. */
  ttlSeconds?: number;
  /** Key prefix of the cluster's data (the Store's prefix); default "/skiff". */
  prefix?: string;
  /**
   * Called with this term's fence: writes made through a store fenced with it (Store.fenced)
   * fail once this term is over, even before this process notices (fence.ts).
   */
  onStartedLeading: (fence: Fence) => void | Promise<void>;
  onStoppedLeading: () => void | Promise<void>;
  log?: (msg: string, fields?: object) => void;
}

export interface LeaderRecord {
  holderIdentity: string;
  /** RFC 3339 time the holder took the lead. */
  acquireTime: string;
  leaseId: string;
}

export function electionKey(prefix: string, name: string): string {
  return `${prefix}/leader-election/${name}`;
}

/** Who leads now, read from etcd; undefined when nobody does. */
export async function currentLeader(
  client: Etcd3,
  name: string,
  prefix = '/skiff',
  timeoutMs = 5000,
): Promise<LeaderRecord | undefined> {
  const raw = await client.get(electionKey(prefix, name)).options(deadline(timeoutMs)).string();
  return raw === null ? undefined : parseRecord(raw);
}

function parseRecord(raw: string): LeaderRecord {
  try {
    const r = JSON.parse(raw) as Partial<LeaderRecord>;
    return { holderIdentity: r.holderIdentity ?? '', acquireTime: r.acquireTime ?? '', leaseId: r.leaseId ?? '' };
  } catch {
    return { holderIdentity: raw, acquireTime: '', leaseId: '' };
  }
}

export class LeaderElector {
  readonly key: string;
  private readonly ttlSeconds: number;
  private readonly periodMs: number;
  /** Deadline of each etcd call: short enough to retry a few times within one TTL. */
  private readonly callTimeoutMs: number;
  private leaseId: string | undefined;
  /** Local time by which the lease must be renewed again for us to keep leading. */
  private validUntil = 0;
  private leading = false;
  /** etcd revision at which we created the key; older events are about earlier holders. */
  private acquiredRevision = 0;
  private stopped = false;
  private holderIdentity = '';
  private holderRevision = 0;
  private stopping: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private wakeRequested = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private watcher: Watcher | undefined;
  private watchRetry: NodeJS.Timeout | undefined;
  /** Leading/stopped callbacks run one after another, never overlapping. */
  private transitions: Promise<void> = Promise.resolve();
  private readonly log: (msg: string, fields?: object) => void;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.ttlSeconds = opts.ttlSeconds ?? 10;
    if (!Number.isInteger(this.ttlSeconds) || this.ttlSeconds < 2) {
      throw new RangeError(`leader election TTL must be a whole number of seconds >= 2, got ${this.ttlSeconds}`);
    }
    this.periodMs = (this.ttlSeconds * 1000) / 3;
    this.callTimeoutMs = Math.min(this.periodMs, 2000);
    this.key = electionKey(opts.prefix ?? '/skiff', opts.name);
    this.log = opts.log ?? (() => undefined);
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * The leader's identity as last seen by this candidate ('' when none is known), without a
   * round trip; `currentLeader` reads it from etcd.
   */
  leader(): string {
    return this.leading ? this.opts.identity : this.holderIdentity;
  }

  /** Starts campaigning; returns at once. */
  start(): void {
    if (this.loop || this.stopped) return;
    this.startWatch();
    this.loop = this.run();
  }

  /** Stops campaigning; a leader steps down (its stop callback has run when this resolves) and frees the key. */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    this.stopped = true;
    this.wakeUp();
    clearTimeout(this.watchRetry);
    await this.loop;
    this.lose('elector stopped');
    const id = this.leaseId;
    this.leaseId = undefined;
    if (id) await revokeLease(this.opts.client, id, 2000).catch(() => undefined);
    const w = this.watcher;
    this.watcher = undefined;
    // Cancelling needs etcd; when it is unreachable the watch dies with the client anyway.
    if (w) await Promise.race([w.cancel().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
    await this.transitions;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let failed = false;
      try {
        await this.tick();
      } catch (e) {
        failed = true;
        this.log('leader election: etcd call failed', { err: e instanceof Error ? e.message : String(e), leading: this.leading });
      }
      if (this.stopped) break;
      if (this.wakeRequested) {
        this.wakeRequested = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        // After a failure retry soon: one lost keepalive must not cost the lease.
        const t = setTimeout(resolve, failed ? Math.min(500, this.periodMs) : this.periodMs);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
      this.wakeRequested = false;
    }
  }

  private async tick(): Promise<void> {
    const { client } = this.opts;
    const sent = Date.now();
    if (!this.leaseId) {
      const g = await grantLease(client, this.ttlSeconds, this.callTimeoutMs);
      if (this.stopped) {
        await revokeLease(client, g.id, 2000).catch(() => undefined);
        return;
      }
      this.leaseId = g.id;
      this.validUntil = sent + g.ttlSeconds * 1000;
    } else {
      const id = this.leaseId;
      const ttl = await keepAliveOnce(client, id, this.callTimeoutMs);
      if (this.leaseId !== id) return; // lost while the call was out
      if (ttl <= 0) {
        this.leaseId = undefined;
        this.lose('lease expired');
        this.wakeUp();
        return;
      }
      this.validUntil = sent + ttl * 1000;
    }
    if (this.leading) {
      this.armDeadline();
      return;
    }
    await this.campaign();
  }

  private async campaign(): Promise<void> {
    const { client } = this.opts;
    const id = this.leaseId;
    if (!id || this.stopped) return;
    const record: LeaderRecord = {
      holderIdentity: this.opts.identity,
      acquireTime: new Date().toISOString(),
      leaseId: id,
    };
    const res = await client
      .if(this.key, 'Create', '==', 0)
      .then(client.put(this.key).value(JSON.stringify(record)).lease(id))
      .else(client.get(this.key))
      .options(deadline(this.callTimeoutMs))
      .commit();
    if (this.leaseId !== id || this.stopped) return;
    let acquiredAt = Number(res.header.revision);
    if (!res.succeeded) {
      // Already ours: an earlier create went through but its answer was lost (timeout).
      const kv = res.responses[0]?.response_range?.kvs[0];
      if (kv && Number(kv.mod_revision) > this.holderRevision) {
        this.holderRevision = Number(kv.mod_revision);
        this.holderIdentity = parseRecord(kv.value.toString()).holderIdentity;
      }
      if (!kv || kv.lease !== id) return;
      acquiredAt = Number(kv.create_revision);
    }
    // The lease may have run out locally while the txn was in flight; then we do not lead.
    if (Date.now() >= this.validUntil) return;
    this.acquiredRevision = acquiredAt;
    this.holderRevision = Math.max(this.holderRevision, acquiredAt);
    this.holderIdentity = this.opts.identity;
    this.leading = true;
    this.armDeadline();
    this.log('leader election: started leading', { identity: this.opts.identity, key: this.key });
    const fence: Fence = { key: Buffer.from(this.key), createRevision: acquiredAt };
    this.enqueue(() => this.opts.onStartedLeading(fence), 'onStartedLeading');
  }

  /** Runs the next tick now (or right after the one in progress). */
  private wakeUp(): void {
    this.wakeRequested = true;
    this.wake?.();
  }

  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(() => {
      if (Date.now() >= this.validUntil) this.dropLease('lease not renewed within its TTL');
      else this.armDeadline();
    }, Math.max(0, this.validUntil - Date.now()));
  }

  /** Gives up leadership and the lease (a new campaign starts with a fresh one). */
  private dropLease(reason: string): void {
    const id = this.leaseId;
    this.leaseId = undefined;
    this.lose(reason);
    // If etcd is reachable again, free the key now instead of when the old lease runs out.
    if (id) void revokeLease(this.opts.client, id, 2000).catch(() => undefined);
    this.wakeUp();
  }

  private lose(reason: string): void {
    clearTimeout(this.deadlineTimer);
    if (!this.leading) return;
    this.leading = false;
    if (this.holderIdentity === this.opts.identity) this.holderIdentity = '';
    this.log('leader election: stopped leading', { identity: this.opts.identity, reason });
    this.enqueue(this.opts.onStoppedLeading, 'onStoppedLeading');
  }

  private enqueue(fn: () => void | Promise<void>, what: string): void {
    this.transitions = this.transitions
      .then(fn)
      .catch((e: unknown) => this.log(`leader election: ${what} failed`, { err: e instanceof Error ? e.message : String(e) }));
  }

  /** Watches the key: a follower campaigns as soon as it is freed, a leader steps down when it is gone. */
  private startWatch(): void {
    if (this.stopped) return;
    this.opts.client
      .watch()
      .key(this.key)
      .create()
      .then((w) => {
        if (this.stopped) return void w.cancel().catch(() => undefined);
        this.watcher = w;
        w.on('delete', (kv: IKeyValue) => this.onKeyChange(kv, true));
        w.on('put', (kv: IKeyValue) => this.onKeyChange(kv, false));
        w.on('error', () => {
          this.watcher = undefined;
          this.retryWatch();
        });
      })
      .catch(() => this.retryWatch());
  }

  private retryWatch(): void {
    clearTimeout(this.watchRetry);
    this.watchRetry = setTimeout(() => this.startWatch(), this.periodMs);
  }

  private onKeyChange(kv: IKeyValue, deleted: boolean): void {
    if (Number(kv.mod_revision) > this.holderRevision) {
      this.holderRevision = Number(kv.mod_revision);
      this.holderIdentity = deleted ? '' : parseRecord(kv.value.toString()).holderIdentity;
    }
    if (!this.leading) {
      if (deleted) this.wakeUp();
      return;
    }
    if (Number(kv.mod_revision) <= this.acquiredRevision) return;
    if (deleted) return this.dropLease('election key deleted');
    if (kv.lease !== this.leaseId) this.dropLease('election key taken by another holder');
  }
}
