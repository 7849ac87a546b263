// Registration and heartbeat: the agent creates (or takes over) its Node, then renews a Lease
// named after the node in kube-node-lease every period, and re-posts Node status now and then
// (and whenever registration had to be redone). Failures never stop the loop: it retries on
// the next beat, so a control plane that comes back sees the node again.
import type { Logger } from 'pino';
import { isApiError } from '../proto/api/errors.js';
import { Lease } from '../proto/gen/skiff/v1/coordination.js';
import { Namespace, type Node } from '../proto/gen/skiff/v1/core.js';
import type { AgentApi, CallOptions } from './api-client.js';
import type { Clock, Timer } from '../proto/api/clock.js';
import type { NodeHealth } from './node-health.js';
import { conditionsMatch, newNode, nodeLabels, nodeStatus, type NodeIdentity } from './node-info.js';

export const LEASE_NAMESPACE = 'kube-node-lease';
export const LEASE_DURATION_SECONDS = 40;

export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface HeartbeatOptions {
  periodMs: number;
  /** Node status is posted every this many beats (the lease carries liveness in between). */
  statusEvery: number;
  /**
   * The node's health now (runtime status, pod network, disk), asked on every beat; a change is
   * posted at once. Never rejects: a failed probe is itself a finding (node-health.ts).
   */
  health: () => Promise<NodeHealth>;
  /**
   * Deadline of the heartbeat's own calls (lease, node status). Shorter than other calls: a
   * renewal stuck on a control plane that cannot commit it (etcd lost its leader and never
   * answers a proposal forwarded to it) must not hold the next renewal back for long, or the
   * node's lease runs out while the new etcd leader is already committing. Default: the
   * client's own deadline.
   */
  callTimeoutMs?: number;
}

export class Heartbeat {
  private timer: Timer | undefined;
  private lease: Lease | undefined;
  private node: Node | undefined;
  private beats = 0;
  private stopped = false;
  private registered = false;
  /** The client's unreachable count when the status was last posted after an outage. */
  private unreachableSeen = 0;
  /** Consecutive failed beats; > 0 means the control plane is out of reach. */
  failures = 0;
  /** The health last found, and the one last posted (undefined: not posted since it changed). */
  private health: NodeHealth | undefined;
  private posted: NodeHealth | undefined;

  private get callOpts(): CallOptions {
    return { timeoutMs: this.opts.callTimeoutMs };
  }

  constructor(
    private readonly api: AgentApi,
    private readonly id: NodeIdentity,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: HeartbeatOptions,
  ) {}

  /** Registers the node (creating the lease namespace if needed). Throws when unreachable. */
  async register(): Promise<Node> {
    try {
      await this.api.create('Namespace', Namespace.fromPartial({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: LEASE_NAMESPACE } }));
    } catch (e) {
      // Forbidden: under the Node authorizer a node may not create namespaces; the control plane
      // makes this one at start (as kube-apiserver does). An older control plane lets us.
      if (!isApiError(e, 'AlreadyExists') && !isApiError(e, 'Forbidden')) throw e;
    }
    const now = rfc3339(this.clock.now());
    const health = await this.currentHealth();
    let node: Node;
    try {
      node = await this.api.create('Node', newNode(this.id, now, health));
      this.log.info({ node: this.id.nodeName }, 'registered node');
    } catch (e) {
      if (!isApiError(e, 'AlreadyExists')) throw e;
      const hadRange = !!this.id.podCIDR;
      node = await this.takeOver();
      // Restarted without --pod-cidr and given the Node's range: healthy now, not "waiting".
      if (!hadRange && this.id.podCIDR) await this.currentHealth();
    }
    this.node = node;
    node = await this.postStatus(true);
    this.registered = true;
    return node;
  }

  // An existing Node of our name (an earlier run of this agent): refresh labels and podCIDR.
  private async takeOver(): Promise<Node> {
    for (;;) {
      const cur = await this.api.get('Node', '', this.id.nodeName, this.callOpts);
      const m = cur.metadata!;
      m.labels = { ...m.labels, ...nodeLabels(this.id) };
      if (cur.spec && !cur.spec.podCIDR && this.id.podCIDR) {
        cur.spec.podCIDR = this.id.podCIDR;
        cur.spec.podCIDRs = [this.id.podCIDR];
      }
      // Restarted without --pod-cidr: the range the Node already has is this node's.
      if (cur.spec?.podCIDR && !this.id.podCIDR) this.id.podCIDR = cur.spec.podCIDR;
      if (cur.spec?.podCIDR && this.id.podCIDR && cur.spec.podCIDR !== this.id.podCIDR) {
        this.log.warn(
          { nodePodCIDR: cur.spec.podCIDR, podCIDR: this.id.podCIDR },
          'the Node already has another pod CIDR (it cannot change): other nodes route that range here; start the agent without --pod-cidr or with the Node\'s',
        );
      }
      try {
        return await this.api.update('Node', cur, '', this.callOpts);
      } catch (e) {
        if (!isApiError(e, 'Conflict')) throw e;
      }
    }
  }

  private async postStatus(fresh: boolean): Promise<Node> {
    for (let attempt = 0; ; attempt++) {
      const cur = fresh || !this.node || attempt > 0 ? await this.api.get('Node', '', this.id.nodeName, this.callOpts) : this.node;
      const health = this.health ?? (await this.currentHealth());
      cur.status = nodeStatus(this.id, cur.status, rfc3339(this.clock.now()), health);
      try {
        this.node = await this.api.update('Node', cur, 'status', this.callOpts);
        this.posted = health;
        return this.node;
      } catch (e) {
        if (!isApiError(e, 'Conflict') || attempt >= 5) throw e;
      }
    }
  }

  // The node lifecycle controller marks a node Unknown when one lease renewal came late; like
  // the kubelet, read the Node back every other beat and post Ready again at once if so, rather
  // than staying unschedulable until the next regular status post. The same catches a node that
  // just became ready (its pod CIDR arrived).
  private async readyInStore(): Promise<boolean> {
    const node = await this.api.get('Node', '', this.id.nodeName, this.callOpts);
    return conditionsMatch(node.status?.conditions, this.health ?? (await this.currentHealth()));
  }

  private async currentHealth(): Promise<NodeHealth> {
    const h = await this.opts.health();
    if (this.health && (this.health.ready !== h.ready || this.health.diskPressure !== h.diskPressure)) {
      this.log.warn({ ready: h.ready, message: h.message, diskPressure: h.diskPressure, disk: h.diskMessage }, 'node health changed');
    }
    this.health = h;
    return h;
  }

  /** The health last found (undefined before the first probe); for the agent's status and tests. */
  lastHealth(): NodeHealth | undefined {
    return this.health;
  }

  /** Posts the Node status now (readiness changed); failures wait for the next beat. */
  async refreshStatus(): Promise<void> {
    if (!this.registered) return;
    await this.currentHealth();
    await this.postStatus(true);
  }

  async renewLease(): Promise<void> {
    const name = this.id.nodeName;
    const now = microTime(this.clock.now());
    if (!this.lease) {
      try {
        this.lease = await this.api.get('Lease', LEASE_NAMESPACE, name, this.callOpts);
      } catch (e) {
        if (!isApiError(e, 'NotFound')) throw e;
        this.lease = await this.api.create('Lease', Lease.fromPartial({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace: LEASE_NAMESPACE },
          spec: { holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_SECONDS, acquireTime: now, renewTime: now },
        }), this.callOpts);
        return;
      }
    }
    const l = this.lease;
    l.spec = { ...(l.spec ?? Lease.fromPartial({}).spec!), holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: now };
    try {
      this.lease = await this.api.update('Lease', l, '', this.callOpts);
    } catch (e) {
      // Re-read next time only when the stored Lease moved on or is gone: after a timeout the
      // cached copy is still right unless the write landed after all, and then the next update
      // gets Conflict and re-reads. One call per renewal, not two, while etcd or a control
      // plane is failing.
      if (isApiError(e, 'Conflict') || isApiError(e, 'NotFound')) this.lease = undefined;
      throw e;
    }
  }

  start(): void {
    this.schedule(this.opts.periodMs);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => void this.beat(), ms);
  }

  /** One heartbeat; exposed so tests and benchmarks can beat on demand. */
  async beat(): Promise<void> {
    try {
      if (!this.registered) await this.register();
      const health = await this.currentHealth();
      await this.renewLease();
      const changed = !this.posted || this.posted.ready !== health.ready || this.posted.diskPressure !== health.diskPressure || this.posted.message !== health.message;
      // Right after an outage the node lifecycle controller may have marked us NotReady/Unknown:
      // post a fresh Ready at once instead of waiting for the regular status beat. The outage
      // may have hit only other calls (a watch) between two beats: the client counts those.
      const unreachable = this.api.unreachableCount;
      const recovering = this.failures > 0 || unreachable !== this.unreachableSeen;
      this.beats++;
      if (recovering || changed || this.beats % this.opts.statusEvery === 0) await this.postStatus(recovering || changed);
      else if (this.beats % 2 === 0 && !(await this.readyInStore())) await this.postStatus(true);
      if (this.failures > 0) this.log.info({ after: this.failures }, 'control plane reachable again');
      this.failures = 0;
      this.unreachableSeen = unreachable;
    } catch (e) {
      this.failures++;
      if (isApiError(e, 'NotFound')) this.registered = false; // node object removed: register again
      if (this.failures === 1 || this.failures % 12 === 0) {
        this.log.warn({ err: e instanceof Error ? e.message : String(e), failures: this.failures }, 'heartbeat failed');
      }
    }
    // One failure is retried soon (a call that hit a control plane or etcd member just lost);
    // a control plane out of reach for longer is tried once a period.
    this.schedule(this.failures === 1 ? Math.ceil(this.opts.periodMs / 4) : this.opts.periodMs);
  }
}
