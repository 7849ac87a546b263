// Keeps the kernel's routes (and the masquerade table) at what the Node snapshot asks for.
// Level-based: every Node change only marks the set dirty; one pass at a time reads back the
// routes this agent owns, computes the desired set and applies the difference (replace before
// delete, so a moving range is never without a route). A failed pass is retried with back-off;
// a periodic pass repairs what someone else removed. Stopping leaves routes in place: pods keep
// talking across nodes while the agent restarts.
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../../proto/api/clock.js';
import type { Node } from '../../../proto/gen/skiff/v1/core.js';
import type { Exec } from '../exec.js';
import { DEFAULT_NAT_TABLE, masqueradeScript, removeTableScript } from './masquerade.js';
import type { RouteTable } from './route-table.js';
import { desiredRoutes, diffRoutes, internalIP, nodeReady, type Route } from './route-set.js';

/** What of a Node the route set depends on. */
function routeFacts(n: Node): string {
  return `${n.spec?.podCIDR ?? ''} ${internalIP(n)} ${nodeReady(n)}`;
}

export interface RouteReconcilerOptions {
  nodeName: string;
  table: RouteTable;
  /** Runs `nft` (masquerade); needed with clusterCIDR. */
  exec: Exec;
  /** Pod traffic leaving this range is masqueraded; no masquerade table when empty. */
  clusterCIDR?: string;
  natTable?: string;
  clock: Clock;
  log: Logger;
  /** Full pass even without Node changes (default 60 s). */
  resyncMs?: number;
}

export class RouteReconciler {
  private readonly nodes = new Map<string, Node>();
  private readonly natTable: string;
  private dirty = false;
  private running: Promise<void> | undefined;
  private timer: Timer | undefined;
  private masqueradeDue = true;
  private stopped = false;
  private lastSkipped = '';
  /** Consecutive failed passes. */
  failures = 0;
  /** The set the last successful pass left in the kernel. */
  applied: Route[] = [];
  passes = 0;

  constructor(private readonly opts: RouteReconcilerOptions) {
    this.natTable = opts.natTable ?? DEFAULT_NAT_TABLE;
    // Fail at start, not at the first pass, on a bad range or table name.
    if (opts.clusterCIDR) masqueradeScript(this.natTable, opts.clusterCIDR);
  }

  /** Replaces the snapshot (after a list). */
  setNodes(nodes: readonly Node[]): void {
    this.nodes.clear();
    for (const n of nodes) this.nodes.set(n.metadata?.name ?? '', n);
    this.kick();
  }

  upsert(n: Node): void {
    const name = n.metadata?.name ?? '';
    const before = this.nodes.get(name);
    this.nodes.set(name, n);
    // Every Node posts status every few beats; only what routes depend on starts a pass.
    if (!before || routeFacts(before) !== routeFacts(n)) this.kick();
  }

  remove(n: Node): void {
    this.nodes.delete(n.metadata?.name ?? '');
    this.kick();
  }

  /** Runs a pass soon (coalesced with one already waiting). */
  kick(): void {
    if (this.stopped) return;
    this.dirty = true;
    this.running ??= this.loop().finally(() => (this.running = undefined));
  }

  /** Resolves when no pass is running or waiting (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.idle();
  }

  /** Removes every route this agent owns and its nft table (an operator tearing a node down; tests). */
  async cleanup(): Promise<void> {
    await this.stop();
    for (const r of await this.opts.table.list()) await this.opts.table.del(r);
    if (this.opts.clusterCIDR) await this.opts.exec(['nft', '-f', '-'], removeTableScript(this.natTable));
  }

  private async loop(): Promise<void> {
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      this.timer?.cancel();
      let next = this.opts.resyncMs ?? 60_000;
      try {
        await this.pass();
        if (this.failures > 0) this.opts.log.info({ after: this.failures }, 'routes in step again');
        this.failures = 0;
      } catch (e) {
        this.failures++;
        next = Math.min(30_000, 500 * 2 ** Math.min(this.failures - 1, 6));
        if (this.failures === 1 || this.failures % 10 === 0) {
          this.opts.log.warn({ err: e instanceof Error ? e.message : String(e), failures: this.failures, retryMs: next }, 'pod network routes: pass failed');
        }
      }
      if (!this.stopped) {
        this.timer = this.opts.clock.setTimeout(() => {
          this.masqueradeDue = true;
          this.kick();
        }, next);
      }
    }
  }

  private async pass(): Promise<void> {
    this.passes++;
    const { log } = this.opts;
    if (this.masqueradeDue && this.opts.clusterCIDR) {
      await this.opts.exec(['nft', '-f', '-'], masqueradeScript(this.natTable, this.opts.clusterCIDR));
      this.masqueradeDue = false;
    }
    const { routes, skipped } = desiredRoutes([...this.nodes.values()], this.opts.nodeName);
    const said = skipped.map((s) => `${s.node}: ${s.reason}`).join('; ');
    if (said !== this.lastSkipped) {
      if (said) log.info({ skipped }, 'nodes without a route to their pods');
      this.lastSkipped = said;
    }
    const current = await this.opts.table.list();
    const { replace, del } = diffRoutes(current, routes);
    const failed: string[] = [];
    for (const r of replace) {
      try {
        await this.opts.table.replace(r);
        log.info({ dst: r.dst, via: r.via }, 'route to node pod range set');
      } catch (e) {
        failed.push(e instanceof Error ? e.message : String(e));
      }
    }
    for (const r of del) {
      try {
        await this.opts.table.del(r);
        log.info({ dst: r.dst, via: r.via }, 'route to node pod range removed');
      } catch (e) {
        failed.push(e instanceof Error ? e.message : String(e));
      }
    }
    if (failed.length) throw new Error(failed.join('; '));
    this.applied = routes;
  }
}
