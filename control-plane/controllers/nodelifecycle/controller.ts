// Node lifecycle: notices nodes whose agent stopped renewing its Lease and moves their pods
// away (decide.ts holds the rules). Freshness is measured on this controller's clock, from the
// moment it saw a lease's renewTime change, as Kubernetes does: agent clocks may be skewed, and
// a newly elected leader gives every node a full grace period instead of evicting at once.
import { isApiError } from '../../../proto/api/errors.js';
import type { Lease } from '../../../proto/gen/skiff/v1/coordination.js';
import type { Node, Pod } from '../../../proto/gen/skiff/v1/core.js';
import type { SharedInformers } from '../../informers.js';
import type { Store } from '../../storage/store.js';
import type { ControllerClient } from '../client.js';
import type { EventRecorder } from '../events.js';
import { realClock, type Clock } from '../../../proto/api/clock.js';
import { Controller, type Result } from '../runtime/controller.js';
import { rootLogger, type Logger } from '../runtime/log.js';
import { setCondition } from '../scheduler/conditions.js';
import {
  decide,
  DEFAULT_EVICTION_DELAY_SECONDS,
  DEFAULT_GRACE_PERIOD_SECONDS,
  NODE_LEASE_NAMESPACE,
  UNKNOWN_MESSAGE,
  UNKNOWN_REASON,
  UNREACHABLE_TAINT_KEY,
  unreachableTaint,
  type LifecycleConfig,
} from './decide.js';

export const BY_NODE_NAME = 'nodeName';
export const nodeNameIndex = (p: Pod): string[] => (p.spec?.nodeName ? [p.spec.nodeName] : []);

export interface NodeLifecycleOptions {
  store: Store;
  client: ControllerClient;
  informers: SharedInformers;
  recorder: EventRecorder;
  gracePeriodSeconds?: number;
  podEvictionDelaySeconds?: number;
  clock?: Clock;
  log?: Logger;
}

/** kube-controller-manager's pod GC quarantine for pods bound to a node that does not exist. */
export const ORPHAN_QUARANTINE_MS = 40_000;

export class NodeLifecycleController {
  // Removed on stop: informers outlive a leadership term, these controllers do not.
  private readonly handlerRemovers: (() => void)[] = [];
  readonly controller: Controller;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly config: LifecycleConfig;
  /** Per node: the renewTime last seen and when (on our clock) we saw it change. */
  private readonly seen = new Map<string, { renewTime: string; at: number }>();
  /** Node name -> when a live read first found it missing while pods were bound to it. */
  private readonly missingSince = new Map<string, number>();

  constructor(private readonly opts: NodeLifecycleOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = (opts.log ?? rootLogger).child({ controller: 'node-lifecycle' });
    this.config = {
      gracePeriodMs: (opts.gracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_SECONDS) * 1000,
      evictionDelayMs: (opts.podEvictionDelaySeconds ?? DEFAULT_EVICTION_DELAY_SECONDS) * 1000,
    };
    this.controller = new Controller({
      name: 'node-lifecycle',
      workers: 2,
      reconcile: (key) => this.reconcile(key),
      clock: this.clock,
      log: opts.log,
    });
  }

  async start(): Promise<void> {
    const { informers } = this.opts;
    const nodes = informers.get('Node');
    const leases = informers.get('Lease');
    const pods = informers.get('Pod');
    pods.addIndex(BY_NODE_NAME, nodeNameIndex);
    this.handlerRemovers.push(nodes.addHandlers({
      onAdd: (n) => this.enqueue(n),
      onUpdate: (_o, n) => this.enqueue(n),
      onDelete: (n) => this.enqueue(n),
    }));
    const onLease = (l: Lease): void => {
      if (l.metadata?.namespace !== NODE_LEASE_NAMESPACE) return;
      this.observe(l.metadata.name, l.spec?.renewTime ?? '');
      this.controller.enqueue(l.metadata.name);
    };
    this.handlerRemovers.push(leases.addHandlers({ onAdd: onLease, onUpdate: (_o, l) => onLease(l) }));
    // A pod bound to a node already known to be unreachable must not wait for the next recheck.
    this.handlerRemovers.push(pods.addHandlers({ onAdd: (p) => p.spec?.nodeName && this.controller.enqueue(p.spec.nodeName) }));
    await informers.start(['Node', 'Lease', 'Pod']);
    this.controller.start();
  }

  stop(): Promise<void> {
    for (const remove of this.handlerRemovers.splice(0)) remove();
    return this.controller.stop();
  }

  private enqueue(n: Node): void {
    this.controller.enqueue(n.metadata?.name ?? '');
  }

  private observe(node: string, renewTime: string): void {
    const prev = this.seen.get(node);
    if (!prev || prev.renewTime !== renewTime) this.seen.set(node, { renewTime, at: this.clock.now() });
  }

  async reconcile(name: string): Promise<Result> {
    const { informers } = this.opts;
    const node = informers.get('Node').get(name);
    if (!node) {
      this.seen.delete(name);
      return this.collectPodsOfDeletedNode(name);
    }
    this.missingSince.delete(name);
    let seen = this.seen.get(name);
    if (!seen) {
      // Never seen a lease for it yet: its grace period starts now.
      const lease = informers.get('Lease').get(`${NODE_LEASE_NAMESPACE}/${name}`);
      seen = { renewTime: lease?.spec?.renewTime ?? '', at: this.clock.now() };
      this.seen.set(name, seen);
    }
    const now = this.clock.now();
    const pods = informers.get('Pod').byIndex(BY_NODE_NAME, name);
    const d = decide({ node, lastRenewSeenAt: seen.at, pods, now, config: this.config });
    if (d.markUnknown || d.addTaint || d.removeTaint) await this.updateNode(name, d, now);
    for (const p of d.evict) await this.evict(p, name);
    return d.recheckInMs !== undefined ? { requeueAfterMs: d.recheckInMs } : {};
  }

  private async updateNode(name: string, d: { markUnknown: boolean; addTaint: boolean; removeTaint: boolean }, now: number): Promise<void> {
    let markedUnknown = false;
    await this.opts.store.guaranteedUpdate('Node', '', name, (n) => {
      let changed = false;
      n.spec ??= { podCIDR: '', podCIDRs: [], unschedulable: false, taints: [], providerID: '' };
      const has = n.spec.taints.some((t) => t.key === UNREACHABLE_TAINT_KEY && t.effect === 'NoExecute');
      if (d.addTaint && !has) {
        n.spec.taints.push(unreachableTaint(now));
        changed = true;
      }
      if (d.removeTaint && has) {
        n.spec.taints = n.spec.taints.filter((t) => !(t.key === UNREACHABLE_TAINT_KEY && t.effect === 'NoExecute'));
        changed = true;
      }
      if (d.markUnknown && n.status) {
        markedUnknown = setCondition(
          n.status.conditions,
          { type: 'Ready', status: 'Unknown', reason: UNKNOWN_REASON, message: UNKNOWN_MESSAGE },
          now,
        );
        changed ||= markedUnknown;
      }
      return changed ? n : undefined;
    });
    const node = this.opts.informers.get('Node').get(name);
    if (markedUnknown && node) {
      this.opts.recorder.record(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      this.log.warn({ node: name }, 'node agent stopped posting status; node marked unreachable');
    }
    if (d.removeTaint) this.log.info({ node: name }, 'node lease renewed again; unreachable taint removed');
  }

  /**
   * Pods bound to a node that no longer exists can never run or finish (Kubernetes' pod GC):
   * force-delete them once live reads have found the node missing for the quarantine (40 s, as
   * kube-controller-manager's pod GC), so neither a lagging cache nor a pod bound to a node that
   * is about to register loses its pods.
   */
  private async collectPodsOfDeletedNode(name: string): Promise<Result> {
    const pods = this.opts.informers.get('Pod').byIndex(BY_NODE_NAME, name);
    if (pods.length === 0) {
      this.missingSince.delete(name);
      return {};
    }
    try {
      await this.opts.client.get('Node', '', name);
      this.missingSince.delete(name);
      return {};
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
    const now = this.clock.now();
    const since = this.missingSince.get(name) ?? now;
    this.missingSince.set(name, since);
    const left = since + ORPHAN_QUARANTINE_MS - now;
    if (left > 0) return { requeueAfterMs: left };
    this.missingSince.delete(name);
    for (const p of pods) await this.evict(p, name, `Node ${name} was deleted; pod deleted so it can run elsewhere`);
    return {};
  }

  private async evict(p: Pod, node: string, message = `Node ${node} is unreachable (NodeNotReady); pod deleted so it can run elsewhere`): Promise<void> {
    const m = p.metadata;
    if (!m) return;
    try {
      // Force: the node is gone, nobody will stop the containers gracefully and report back.
      await this.opts.client.delete('Pod', m.namespace, m.name, { gracePeriodSeconds: 0, preconditions: { uid: m.uid } });
    } catch (e) {
      if (isApiError(e, 'NotFound') || isApiError(e, 'Conflict')) return;
      throw e;
    }
    this.opts.recorder.record(p, 'Warning', 'Evicted', message);
    this.log.info({ node, pod: `${m.namespace}/${m.name}` }, 'evicted pod from unreachable node');
  }
}
