// The metrics API's source: asks every Ready node's agent for its latest sample (NodeAgent.Stats)
// when metrics are read, keeping each answer a few seconds so a burst of reads (skiff top,
// every autoscaler of a sync) costs one call per node. Nothing is stored in etcd: like
// metrics-server, the figures live in memory only. Used by the API server (get/list of
// PodMetrics and NodeMetrics) and by the HPA controller.
import { Metadata } from '@grpc/grpc-js';
import { grpcCredentials, type ClientTls } from '../../proto/api/tls-client.js';
import { NodeAgentClient, type NodeStats } from '../../proto/gen/skiff/v1/agent.js';
import type { Node, Pod } from '../../proto/gen/skiff/v1/core.js';
import type { NodeMetrics, PodMetrics } from '../../proto/gen/skiff/v1/metrics.js';
import { agentTargetOf } from '../api/logs.js';
import type { SharedInformers } from '../informers.js';
import { nodeMetrics, podMetrics } from './aggregate.js';

export type StatsFetcher = (node: Node) => Promise<NodeStats>;

export interface ResourceMetricsOptions {
  informers: SharedInformers;
  /** How agents are reached (mutual TLS) by the default fetch; without it every fetch fails saying so. */
  kubelet?: ClientTls;
  /** How a node's sample is fetched (default: NodeAgent.Stats at its published address). */
  fetch?: StatsFetcher;
  /** How long one node's answer is reused. */
  ttlMs?: number;
  /** Deadline of one agent call. */
  timeoutMs?: number;
  onError?: (node: string, err: unknown) => void;
}

export class ResourceMetrics {
  private readonly cache = new Map<string, { at: number; stats: Promise<NodeStats | undefined> }>();
  private readonly fetch: StatsFetcher;

  constructor(private readonly opts: ResourceMetricsOptions) {
    this.fetch = opts.fetch ?? ((node) => fetchAgentStats(node, opts.kubelet, opts.timeoutMs ?? 3000));
  }

  async podMetrics(): Promise<PodMetrics[]> {
    await this.opts.informers.start(['Node', 'Pod']);
    const pods = this.opts.informers.get('Pod');
    return podMetrics(await this.samples(), (ns, name) => pods.get(`${ns}/${name}`));
  }

  async nodeMetrics(): Promise<NodeMetrics[]> {
    await this.opts.informers.start(['Node', 'Pod']);
    const nodes = this.opts.informers.get('Node');
    return nodeMetrics(await this.samples(), (name) => nodes.get(name)?.metadata?.labels ?? {});
  }

  /** Pods of the cache, for callers that need requests next to usage. */
  pod(namespace: string, name: string): Pod | undefined {
    return this.opts.informers.peek('Pod')?.get(`${namespace}/${name}`);
  }

  private async samples(): Promise<NodeStats[]> {
    const now = Date.now();
    const ttl = this.opts.ttlMs ?? 5000;
    const nodes = this.opts.informers.get('Node').list().filter(isReady);
    const answers = await Promise.all(nodes.map((n) => {
      const name = n.metadata?.name ?? '';
      let hit = this.cache.get(name);
      if (!hit || now - hit.at > ttl) {
        hit = {
          at: now,
          stats: this.fetch(n).catch((e: unknown) => {
            this.opts.onError?.(name, e);
            return undefined;
          }),
        };
        this.cache.set(name, hit);
      }
      return hit.stats;
    }));
    const live = new Set(nodes.map((n) => n.metadata?.name ?? ''));
    for (const k of this.cache.keys()) if (!live.has(k)) this.cache.delete(k);
    return answers.filter((s): s is NodeStats => s !== undefined);
  }
}

function isReady(n: Node): boolean {
  return n.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export async function fetchAgentStats(node: Node, kubelet: ClientTls | undefined, timeoutMs: number): Promise<NodeStats> {
  if (!kubelet) throw new Error('no client certificate for node agents is configured (--kubelet-client-certificate, --kubelet-certificate-authority)');
  const target = agentTargetOf(node);
  const client = new NodeAgentClient(target, grpcCredentials(target, kubelet));
  try {
    return await new Promise<NodeStats>((resolve, reject) => {
      client.stats({}, new Metadata(), { deadline: Date.now() + timeoutMs }, (e, res) => (e ? reject(e) : resolve(res)));
    });
  } finally {
    client.close();
  }
}
