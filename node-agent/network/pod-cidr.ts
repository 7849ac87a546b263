// An agent started without --pod-cidr takes its Node's spec.podCIDR, given by the control
// plane's node IPAM (skiff-control-plane --cluster-cidr). Until the Node has one it runs no
// pods and says so now and then, naming the reason when the control plane recorded one
// (CIDRNotAvailable: the cluster's range is full).
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../proto/api/clock.js';
import type { Node } from '../../proto/gen/skiff/v1/core.js';
import type { AgentApi } from '../api-client.js';

export const CIDR_NOT_AVAILABLE = 'CIDRNotAvailable';

export class PodCidrWait {
  private timer: Timer | undefined;
  private done = false;
  private waitedMs = 0;

  constructor(
    private readonly api: AgentApi,
    private readonly nodeName: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly onCidr: (cidr: string) => void,
    private readonly remindMs = 30_000,
  ) {}

  start(): void {
    this.log.info(
      { node: this.nodeName },
      'no --pod-cidr given: waiting for the control plane to give this node a pod CIDR (spec.podCIDR; skiff-control-plane --cluster-cidr); pods start once it has one',
    );
    this.schedule();
  }

  stop(): void {
    this.done = true;
    this.timer?.cancel();
  }

  /** Every version of this agent's Node seen by the node watch. */
  observe(n: Node): void {
    const cidr = n.spec?.podCIDR;
    if (this.done || !cidr || n.metadata?.name !== this.nodeName) return;
    this.stop();
    this.log.info({ podCIDR: cidr }, 'this node\'s pod CIDR, from the control plane');
    this.onCidr(cidr);
  }

  private schedule(): void {
    if (this.done) return;
    this.timer = this.clock.setTimeout(() => void this.remind(), this.remindMs);
  }

  private async remind(): Promise<void> {
    this.waitedMs += this.remindMs;
    try {
      const reason = await this.reasonFromEvents();
      if (this.done) return;
      if (reason) this.log.warn({ waitedSeconds: this.waitedMs / 1000, reason }, 'the cluster has no pod range for this node; no pods run here until one is free (delete an unused Node or widen --cluster-cidr)');
      else this.log.warn({ waitedSeconds: this.waitedMs / 1000 }, 'still waiting for a pod CIDR: is skiff-control-plane running with --cluster-cidr? (or start this agent with --pod-cidr)');
    } catch (e) {
      this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'still waiting for a pod CIDR; cannot read the node\'s events');
    }
    this.schedule();
  }

  private async reasonFromEvents(): Promise<string | undefined> {
    const { items } = await this.api.list('Event', {
      namespace: 'default',
      fieldSelector: `involvedObject.kind=Node,involvedObject.name=${this.nodeName},reason=${CIDR_NOT_AVAILABLE}`,
    });
    const last = items.sort((a, b) => (a.lastTimestamp ?? '').localeCompare(b.lastTimestamp ?? '')).pop();
    return last?.message;
  }
}
