// Node IPAM (kube-controller-manager's --allocate-node-cidrs with the range allocator): gives
// every Node without spec.podCIDR a free range of the cluster CIDR. The allocator's state is
// rebuilt each term from the Nodes themselves (the informer caught up with etcd first), a range
// is marked used before it is written, and the write is a CAS on the Node that gives up when
// the Node already has a range (another writer was first; that one is then tracked instead).
// A deleted Node's range is freed and Nodes still waiting for one are looked at again.
import { formatCidr, parseCidr, type Cidr } from '../../../proto/api/cidr.js';
import { isApiError } from '../../../proto/api/errors.js';
import type { Node } from '../../../proto/gen/skiff/v1/core.js';
import type { SharedInformers } from '../../informers.js';
import type { Store } from '../../storage/store.js';
import type { ControllerClient } from '../client.js';
import type { EventRecorder } from '../events.js';
import { Controller, type Result } from '../runtime/controller.js';
import { rootLogger, type Logger } from '../runtime/log.js';
import { CidrExhaustedError, RangeAllocator } from './allocator.js';

/** Event reasons: the first is Kubernetes' own; the second is Skiff's (Kubernetes logs it). */
export const CIDR_NOT_AVAILABLE = 'CIDRNotAvailable';
export const CIDR_OVERLAP = 'PodCIDROverlap';

export interface NodeIpamOptions {
  store: Store;
  informers: SharedInformers;
  client: ControllerClient;
  recorder: EventRecorder;
  clusterCIDR: string;
  nodeCIDRMaskSize: number;
  log?: Logger;
}

export class NodeIpamController {
  readonly controller: Controller;
  private readonly log: Logger;
  private readonly handlerRemovers: (() => void)[] = [];
  private allocator: RangeAllocator;
  /** "node cidr" pairs already reported as overlapping, so a heartbeat does not repeat the event. */
  private readonly reported = new Set<string>();
  private stopped = false;

  constructor(private readonly opts: NodeIpamOptions) {
    this.log = (opts.log ?? rootLogger).child({ controller: 'node-ipam' });
    this.allocator = new RangeAllocator(opts.clusterCIDR, opts.nodeCIDRMaskSize);
    this.controller = new Controller({ name: 'node-ipam', workers: 1, reconcile: (key) => this.reconcile(key), log: opts.log });
  }

  async start(): Promise<void> {
    const nodes = this.opts.informers.get('Node');
    await this.opts.informers.start(['Node']);
    // A leader elected a moment ago may hold a cache that has not seen the previous leader's
    // last writes: the ranges in use are those of the cache and of a fresh read from etcd. A
    // Node only one of them has is settled by its informer event (a delete frees its range).
    const live = await this.liveNodes();
    if (this.stopped) return;
    this.allocator = new RangeAllocator(this.opts.clusterCIDR, this.opts.nodeCIDRMaskSize);
    // The fresh read last: where the two differ (a Node re-created meanwhile), it wins.
    for (const n of [...nodes.list(), ...live]) if (n.spec?.podCIDR) this.track(n);
    this.log.info(
      { clusterCIDR: this.opts.clusterCIDR, maskSize: this.opts.nodeCIDRMaskSize, used: this.allocator.used, capacity: this.allocator.capacity },
      'node CIDR allocator ready',
    );
    this.handlerRemovers.push(nodes.addHandlers({
      onAdd: (n) => this.enqueue(n),
      onUpdate: (o, n) => {
        if (o.spec?.podCIDR !== n.spec?.podCIDR || !n.spec?.podCIDR) this.enqueue(n);
      },
      onDelete: (n) => this.enqueue(n),
    }));
    this.controller.start();
  }

  // Retried like the informers' own start: an unreachable etcd delays this controller without
  // failing the start of the others.
  private async liveNodes(): Promise<Node[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.opts.store.list('Node')).items;
      } catch (e) {
        if (this.stopped) return [];
        const ms = Math.min(5_000, 200 * 2 ** attempt);
        if (attempt === 0 || attempt % 10 === 0) this.log.warn({ err: e instanceof Error ? e.message : String(e), retryMs: ms }, 'cannot list Nodes from etcd yet');
        await new Promise((r) => setTimeout(r, ms));
      }
    }
  }

  stop(): Promise<void> {
    this.stopped = true;
    for (const remove of this.handlerRemovers.splice(0)) remove();
    return this.controller.stop();
  }

  /** Ranges in use and in all (for tests and logs). */
  usage(): { used: number; capacity: number } {
    return { used: this.allocator.used, capacity: this.allocator.capacity };
  }

  private enqueue(n: Node): void {
    this.controller.enqueue(n.metadata?.name ?? '');
  }

  async reconcile(name: string): Promise<Result> {
    const node = this.opts.informers.get('Node').get(name);
    if (!node) {
      const freed = this.allocator.releaseOwner(name);
      for (const k of [...this.reported]) if (k.startsWith(`${name} `)) this.reported.delete(k);
      if (freed.length) {
        this.log.info({ node: name, freed: freed.map(formatCidr) }, 'node deleted; its pod CIDR is free again');
        // Nodes that found the cluster full may fit now.
        for (const n of this.opts.informers.get('Node').list()) if (!n.spec?.podCIDR) this.enqueue(n);
      }
      return {};
    }
    if (node.spec?.podCIDR) {
      this.track(node);
      return {};
    }
    let cidr: Cidr;
    try {
      cidr = this.allocator.allocate(name);
    } catch (e) {
      if (!(e instanceof CidrExhaustedError)) throw e;
      this.opts.recorder.record(node, 'Warning', CIDR_NOT_AVAILABLE, `Node ${name} status is now: ${CIDR_NOT_AVAILABLE} (${e.message})`);
      this.log.warn({ node: name, err: e.message }, 'cannot give the node a pod CIDR');
      return {};
    }
    const range = formatCidr(cidr);
    let already: string | undefined;
    try {
      await this.opts.client.patch('Node', '', name, (cur) => {
        already = cur.spec?.podCIDR || undefined;
        if (already || !cur.spec) return undefined;
        cur.spec.podCIDR = range;
        cur.spec.podCIDRs = [range];
        return cur;
      }, { uid: node.metadata?.uid });
    } catch (e) {
      this.allocator.release(cidr, name);
      // Gone, or replaced by a new Node of the same name (its own add event brings it back).
      if (isApiError(e, 'NotFound') || isApiError(e, 'Conflict')) return {};
      throw e;
    }
    if (already) {
      this.allocator.release(cidr, name);
      this.track(node, already);
      return {};
    }
    this.log.info({ node: name, podCIDR: range }, 'gave the node a pod CIDR');
    return {};
  }

  /** Marks a Node's own range used (the one it registered with or was given earlier). */
  private track(node: Node, cidrText = node.spec?.podCIDR ?? ''): void {
    const name = node.metadata?.name ?? '';
    const cidr = parseCidr(cidrText);
    if (typeof cidr === 'string') {
      this.log.warn({ node: name, err: cidr }, 'node has a pod CIDR that is not one; ignored');
      return;
    }
    // A Node's range never changes (validation), but a Node re-created under the same name may
    // come with another: hold exactly the current one.
    const held = this.allocator.rangesOf(name).map(formatCidr);
    if (held.length !== 1 || held[0] !== formatCidr(cidr)) this.allocator.releaseOwner(name);
    const r = this.allocator.occupy(cidr, name);
    if (r.outside || r.conflicts.length === 0) return;
    const key = `${name} ${cidrText}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    const msg = `pod CIDR ${cidrText} overlaps the range of ${r.conflicts.map((n) => `node ${n}`).join(', ')}: pods of these nodes may get the same IPs`;
    this.opts.recorder.record(node, 'Warning', CIDR_OVERLAP, msg);
    this.log.warn({ node: name, podCIDR: cidrText, others: r.conflicts }, 'node pod CIDR overlaps another node');
  }
}
