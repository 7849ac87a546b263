// The node proxy's loop: keeps the latest ServiceSnapshot, and after a short debounce (and no
// sooner than minSyncIntervalMs after the previous sync) applies it as one nft transaction.
// Level-based like every Skiff loop: a sync always programs the newest snapshot, never the
// event that woke it. The first sync and any sync after a failure replace the whole table;
// the others change only what differs from the ruleset last applied.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { realClock, type Clock, type Timer } from '../../../proto/api/clock.js';
import type { ServiceSnapshot } from '../snapshot.js';
import { proxyMetrics, type ProxyMetrics } from './metrics.js';
import { nftRunner, type NftRunner } from './nft.js';
import { buildRuleset, type Ruleset, type RulesetOptions } from './ruleset.js';
import { deleteTableTransaction, fullTransaction, partialTransaction } from './transaction.js';

export interface ProxierOptions extends RulesetOptions {
  log: Logger;
  runner?: NftRunner;
  clock?: Clock;
  /** Wait after a change for more changes to batch (default 100 ms). */
  debounceMs?: number;
  /** Least time between two syncs' starts (default 250 ms). */
  minSyncIntervalMs?: number;
  /** Retry delay after a failed sync (default 1000 ms). */
  retryMs?: number;
  /** Set net.ipv4.conf.all.route_localnet=1 so NodePorts answer on 127.0.0.1 (default true). */
  routeLocalnet?: boolean;
  registry?: Registry;
}

export interface SyncResult {
  generation: number;
  mode: 'full' | 'partial';
  seconds: number;
  servicePorts: number;
  endpointChains: number;
}

const EMPTY: ServiceSnapshot = { services: [], endpoints: new Map() };

export class Proxier {
  private snapshot: ServiceSnapshot = EMPTY;
  private generation = 0;
  private applied: Ruleset | undefined;
  private timer: Timer | undefined;
  private inFlight: Promise<void> | undefined;
  private lastSyncStart = Number.NEGATIVE_INFINITY;
  private stopped = true;
  private syncedGeneration = -1;
  private readonly listeners: ((r: SyncResult) => void)[] = [];
  private readonly runner: NftRunner;
  private readonly clock: Clock;
  private readonly metrics: ProxyMetrics;
  private readonly log: Logger;

  constructor(private readonly opts: ProxierOptions) {
    this.runner = opts.runner ?? nftRunner();
    this.clock = opts.clock ?? realClock;
    this.metrics = proxyMetrics(opts.registry);
    this.log = opts.log.child({ component: 'proxy', table: opts.table });
  }

  /** The snapshot to program; `generation` (default: a counter) is what onSynced reports. */
  update(snapshot: ServiceSnapshot, generation?: number): void {
    this.snapshot = snapshot;
    this.generation = generation ?? this.generation + 1;
    this.schedule(this.opts.debounceMs ?? 100);
  }

  /** Called after every successful sync (e.g. to report the programmed generation). */
  onSynced(fn: (r: SyncResult) => void): void {
    this.listeners.push(fn);
  }

  /** The generation of the snapshot the kernel holds now (-1 before the first sync). */
  get programmedGeneration(): number {
    return this.syncedGeneration;
  }

  /** Enables route_localnet, looks at what an earlier run left, and programs the current snapshot. */
  async start(): Promise<void> {
    this.stopped = false;
    if (this.opts.routeLocalnet ?? true) await this.runner.sysctl('net.ipv4.conf.all.route_localnet', '1');
    const existing = await this.runner.listTable(this.opts.table);
    if (existing !== undefined) this.log.info('replacing the nftables table left by an earlier run');
    this.applied = undefined;
    await this.syncNow();
  }

  /** Runs a sync now (after any in flight); failures are logged and retried, not thrown. */
  async syncNow(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    while (this.inFlight) await this.inFlight;
    this.inFlight = this.sync().finally(() => {
      this.inFlight = undefined;
    });
    await this.inFlight;
  }

  /** Stops syncing; the rules stay (static stability: a stopped agent keeps services working). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    while (this.inFlight) await this.inFlight;
  }

  /** Stops and deletes the proxy's table (agent --cleanup, `skiff down`). */
  async cleanup(): Promise<void> {
    await this.stop();
    await this.runner.apply(deleteTableTransaction(this.opts.table));
    this.applied = undefined;
    this.log.info('deleted the nftables table');
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.timer) return;
    const wait = Math.max(delayMs, this.lastSyncStart + (this.opts.minSyncIntervalMs ?? 250) - this.clock.now());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      // syncNow waits for a sync in flight, then programs the newest snapshot.
      void this.syncNow();
    }, wait);
  }

  private async sync(): Promise<void> {
    const generation = this.generation;
    const mode = this.applied ? 'partial' : 'full';
    this.lastSyncStart = this.clock.now();
    const started = process.hrtime.bigint();
    const end = this.metrics.syncDuration.startTimer({ mode });
    try {
      const rs = buildRuleset(this.snapshot, this.opts);
      await this.runner.apply(this.applied ? partialTransaction(this.applied, rs) : fullTransaction(rs));
      this.applied = rs;
      end({ outcome: 'ok' });
      this.metrics.syncs.inc({ mode, outcome: 'ok' });
      this.syncedGeneration = generation;
      const r: SyncResult = {
        generation, mode, seconds: Number(process.hrtime.bigint() - started) / 1e9,
        servicePorts: rs.servicePorts, endpointChains: rs.endpointChains,
      };
      this.log.debug(r, 'nftables synced');
      for (const fn of this.listeners) fn(r);
    } catch (err) {
      end({ outcome: 'error' });
      this.metrics.syncs.inc({ mode, outcome: 'error' });
      // The kernel state is unknown now: the next sync replaces the whole table.
      this.applied = undefined;
      this.log.error({ err, mode }, 'nftables sync failed; retrying with a full resync');
      this.schedule(this.opts.retryMs ?? 1000);
      return;
    }
    // Changes that arrived during the sync.
    if (this.generation !== generation) this.schedule(0);
  }
}
