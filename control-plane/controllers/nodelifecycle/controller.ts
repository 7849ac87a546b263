// Node lifecycle: notices nodes whose agent stopped renewing its Lease and moves their pods
// away (decide.ts holds the rules). Freshness is measured on this controller's clock, from the
// moment it saw a lease's renewTime change, as Kubernetes does: agent clocks may be skewed, and
// a newly elected leader gives every node a full grace period instead of evicting at once.
import { isApiError } from '../../../proto/api/errors.js';
import type { Lease } from '../../../proto/gen/skiff/v1/coordination.js';
import type { Node, Pod } from '../../../proto/gen/skiff/v1/core.js';
import type { SharedInformers } from '../../informers.js';
import type { Store } from '../../storage/store.js';
import { copyObject, type ControllerClient } from '../client.js';
import type { EventRecorder } from '../events.js';
import { realClock, type Clock } from '../../../proto/api/clock.js';
import { Controller, type Result } from '../runtime/controller.js';
import { rootLogger, type Logger } from '../runtime/log.js';
import { findCondition, setCondition } from '../scheduler/conditions.js';
import {
  decide,
  DEFAULT_EVICTION_DELAY_SECONDS,
  DEFAULT_GRACE_PERIOD_SECONDS,
  desiredTaints,
  NODE_LEASE_NAMESPACE,
  nodeHealth,
  NOT_READY_TAINT_KEY,
  sameTaints,
  taint,
  UNKNOWN_MESSAGE,
  UNKNOWN_REASON,
  UNREACHABLE_TAINT_KEY,
  type LifecycleConfig,
  type NodeDecision,
  type NodeHealth,
  type PodEviction,
} from './decide.js';
import { DEFAULT_DISRUPTION, planTainting, ZONE_LABEL, type Bucket, type DisruptionConfig, type NodeSnapshot, type ZoneState } from './disruption.js';

export const BY_NODE_NAME = 'nodeName';
export const nodeNameIndex = (p: Pod): string[] => (p.spec?.nodeName ? [p.spec.nodeName] : []);

export interface NodeLifecycleOptions {
  store: Store;
  client: ControllerClient;
  informers: SharedInformers;
  recorder: EventRecorder;
  gracePeriodSeconds?: number;
  podEvictionDelaySeconds?: number;
  /** Rate limits and full-disruption mode (disruption.ts); Kubernetes' defaults when absent. */
  disruption?: Partial<DisruptionConfig>;
  clock?: Clock;
  log?: Logger;
}

/** kube-controller-manager's pod GC quarantine for pods bound to a node that does not exist. */
export const ORPHAN_QUARANTINE_MS = 40_000;

/** The work-queue key of the pass over all nodes (node names cannot contain '#'). */
const ZONES_KEY = '#zones';
/** How often the pass over all nodes runs while any node is unhealthy (Kubernetes: 5 s monitor period). */
const ZONE_PASS_MS = 1000;

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
  /** Per node: its health as last decided, since when, and the NoExecute taint it waits for. */
  private readonly health = new Map<string, { health: NodeHealth; since: number; wantsNoExecute?: string }>();
  private buckets = new Map<string, Bucket>();
  private zoneStates = new Map<string, ZoneState>();
  private readonly disruption: DisruptionConfig;

  constructor(private readonly opts: NodeLifecycleOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = (opts.log ?? rootLogger).child({ controller: 'node-lifecycle' });
    this.config = {
      gracePeriodMs: (opts.gracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_SECONDS) * 1000,
      evictionDelayMs: (opts.podEvictionDelaySeconds ?? DEFAULT_EVICTION_DELAY_SECONDS) * 1000,
    };
    this.disruption = { ...DEFAULT_DISRUPTION, ...opts.disruption };
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
    this.controller.enqueue(ZONES_KEY);
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
    if (name === ZONES_KEY) return this.zonePass();
    const { informers } = this.opts;
    const node = informers.get('Node').get(name);
    if (!node) {
      this.seen.delete(name);
      this.health.delete(name);
      return this.collectPodsOfDeletedNode(name);
    }
    this.missingSince.delete(name);
    const now = this.clock.now();
    const seenAt = this.seenAt(name, now);
    const pods = informers.get('Pod').byIndex(BY_NODE_NAME, name);
    const d = decide({ node, lastRenewSeenAt: seenAt, pods, now, config: this.config });
    const prev = this.health.get(name);
    this.health.set(name, { health: d.health, since: prev && prev.health === d.health ? prev.since : now, wantsNoExecute: d.wantsNoExecute });
    if (d.wantsNoExecute && !prev?.wantsNoExecute) this.controller.enqueue(ZONES_KEY);
    if (d.markUnknown || d.taints) await this.updateNode(name, d, now);
    for (const p of d.markNotReady) await this.markPodNotReady(p, name);
    for (const e of d.evict) await this.evict(e, name);
    return d.recheckInMs !== undefined ? { requeueAfterMs: d.recheckInMs } : {};
  }

  /** Local time the node's lease was last seen renewed; a node never seen starts its grace now. */
  private seenAt(name: string, now: number): number {
    let seen = this.seen.get(name);
    if (!seen) {
      const lease = this.opts.informers.get('Lease').get(`${NODE_LEASE_NAMESPACE}/${name}`);
      seen = { renewTime: lease?.spec?.renewTime ?? '', at: now };
      this.seen.set(name, seen);
    }
    return seen.at;
  }

  /** The zones' states as of the last pass over all nodes (for tests and metrics). */
  zones(): ReadonlyMap<string, ZoneState> {
    return this.zoneStates;
  }

  /** Over all nodes: which unhealthy ones get their NoExecute taint now (disruption.ts). */
  private async zonePass(): Promise<Result> {
    const now = this.clock.now();
    const nodes: NodeSnapshot[] = [];
    for (const n of this.opts.informers.get('Node').list()) {
      const name = n.metadata?.name ?? '';
      const h = this.health.get(name);
      // Nodes not reconciled yet count by their health now, without a wanted taint.
      const health = h?.health ?? nodeHealth(n, this.seenAt(name, now), now, this.config);
      nodes.push({ name, zone: n.metadata?.labels[ZONE_LABEL] ?? '', health, wantsNoExecute: h?.wantsNoExecute, unhealthySince: h?.since ?? now });
    }
    const plan = planTainting({ nodes, buckets: this.buckets, now, config: this.disruption });
    this.buckets = plan.buckets;
    for (const [zone, state] of plan.zones) {
      const was = this.zoneStates.get(zone);
      if (was !== state && (was || state !== 'Normal')) this.log.warn({ zone: zone || '(none)', state, was }, 'zone disruption state changed');
    }
    this.zoneStates = plan.zones;
    for (const t of plan.taint) await this.addNoExecute(t.name, t.key, now);
    if (plan.liftAll) {
      for (const n of nodes) {
        const has = this.opts.informers.get('Node').get(n.name)?.spec?.taints.some(isControllerNoExecute);
        if (has) await this.liftNoExecute(n.name);
      }
    }
    const anyUnhealthy = nodes.some((n) => n.health !== 'ready');
    return { requeueAfterMs: plan.recheckInMs ?? (anyUnhealthy ? ZONE_PASS_MS : ZONE_PASS_MS * 5) };
  }

  private async addNoExecute(name: string, key: string, now: number): Promise<void> {
    await this.opts.store.guaranteedUpdate('Node', '', name, (n) => {
      n.spec ??= { podCIDR: '', podCIDRs: [], unschedulable: false, taints: [], providerID: '' };
      if (n.spec.taints.some(isControllerNoExecute)) return undefined;
      n.spec.taints.unshift(taint(key, 'NoExecute', now));
      return n;
    });
    const h = this.health.get(name);
    if (h) h.wantsNoExecute = undefined;
    this.log.warn({ node: name, taint: key }, 'node tainted NoExecute: pods that do not tolerate it will be evicted');
    this.controller.enqueue(name);
  }

  private async liftNoExecute(name: string): Promise<void> {
    await this.opts.store.guaranteedUpdate('Node', '', name, (n) => {
      if (!n.spec?.taints.some(isControllerNoExecute)) return undefined;
      n.spec.taints = n.spec.taints.filter((t) => !isControllerNoExecute(t));
      return n;
    });
    this.log.warn({ node: name }, 'every zone is fully disrupted (the control plane is likely cut off): NoExecute taint lifted, no pod is evicted');
  }

  private async updateNode(name: string, d: NodeDecision, now: number): Promise<void> {
    let markedUnknown = false;
    await this.opts.store.guaranteedUpdate('Node', '', name, (n) => {
      let changed = false;
      n.spec ??= { podCIDR: '', podCIDRs: [], unschedulable: false, taints: [], providerID: '' };
      // Applied again to this fresher copy, so a taint written meanwhile (a user's, or the
      // NoExecute the zone pass added) is not lost.
      const diskPressure = d.health !== 'unreachable' && findCondition(n.status?.conditions, 'DiskPressure')?.status === 'True';
      const next = desiredTaints(n.spec.taints, d.health, diskPressure, now).taints;
      if (!sameTaints(n.spec.taints, next)) {
        n.spec.taints = next;
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
  }

  /** Kubernetes' MarkPodsNotReady: a pod on an unreachable node stops counting as ready at once. */
  private async markPodNotReady(p: Pod, node: string): Promise<void> {
    const m = p.metadata;
    if (!m) return;
    try {
      const next = copyObject('Pod', p);
      if (!next.status) return;
      const ready = { type: 'Ready', status: 'False', reason: 'NodeNotReady', message: `Node ${node} is unreachable` };
      if (!setCondition(next.status.conditions, ready, this.clock.now())) return;
      // CAS on the cached resourceVersion: a Conflict means the pod moved on; the next pass looks again.
      await this.opts.client.updateStatus('Pod', next);
    } catch (e) {
      if (isApiError(e, 'NotFound') || isApiError(e, 'Conflict')) return;
      throw e;
    }
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

  private async evict(e: PodEviction | Pod, node: string, message?: string): Promise<void> {
    const { pod: p, gracePeriodSeconds, taint: t } = 'pod' in e ? e : { pod: e, gracePeriodSeconds: 0, taint: undefined };
    const m = p.metadata;
    if (!m) return;
    try {
      await this.opts.client.delete('Pod', m.namespace, m.name, { gracePeriodSeconds, preconditions: { uid: m.uid } });
    } catch (err) {
      if (isApiError(err, 'NotFound') || isApiError(err, 'Conflict')) return;
      throw err;
    }
    if (gracePeriodSeconds === 0 && m.deletionTimestamp) {
      this.log.info({ node, pod: `${m.namespace}/${m.name}` }, 'grace period over on an unreachable node: pod force-deleted');
      return;
    }
    const why = message ?? (t?.key === UNREACHABLE_TAINT_KEY || t?.key === NOT_READY_TAINT_KEY
      ? `Node ${node} is ${t.key === UNREACHABLE_TAINT_KEY ? 'unreachable' : 'not ready'} (taint ${t.key}:NoExecute); pod deleted so it can run elsewhere`
      : `Node ${node} has taint ${t?.key ?? ''}:NoExecute that the pod does not tolerate; pod deleted`);
    this.opts.recorder.record(p, 'Warning', t?.key === UNREACHABLE_TAINT_KEY || t?.key === NOT_READY_TAINT_KEY || !t ? 'Evicted' : 'TaintManagerEviction', why);
    this.log.info({ node, pod: `${m.namespace}/${m.name}`, taint: t?.key }, 'evicted pod');
  }
}

function isControllerNoExecute(t: { key: string; effect: string }): boolean {
  return t.effect === 'NoExecute' && (t.key === UNREACHABLE_TAINT_KEY || t.key === NOT_READY_TAINT_KEY);
}
