// From what the node agents sampled (NodeAgent.Stats) to the metrics.k8s.io/v1beta1 objects,
// as metrics-server builds them from kubelet summaries: CPU in nanocores ("123456n"), memory
// in KiB ("2048Ki"), the sample's timestamp and window. Pure: snapshots in, objects out.
import { emptyMeta } from '../../proto/api/kinds.js';
import type { NodeStats } from '../../proto/gen/skiff/v1/agent.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import type { NodeMetrics, PodMetrics } from '../../proto/gen/skiff/v1/metrics.js';

export function cpuQuantity(nanoCores: number): string {
  return `${Math.max(0, Math.round(nanoCores))}n`;
}

export function memoryQuantity(bytes: number): string {
  return `${Math.max(0, Math.floor(bytes / 1024))}Ki`;
}

/** "10.5s": Kubernetes' JSON form of a duration, for `window`. */
export function windowText(seconds: number): string {
  return `${Number(seconds.toFixed(3))}s`;
}

/** Whole-second RFC 3339, as Kubernetes writes metav1.Time. */
function time(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z');
}

/**
 * One PodMetrics per pod a node reported that the API still knows by this uid (a pod deleted or
 * replaced under the same name since the sample is left out), in the pod's labels.
 */
export function podMetrics(stats: readonly NodeStats[], podOf: (namespace: string, name: string) => Pod | undefined): PodMetrics[] {
  const out: PodMetrics[] = [];
  for (const s of stats) {
    if (!s.timestamp) continue;
    for (const p of s.pods) {
      const pod = podOf(p.namespace, p.name);
      if (!pod || (p.uid && pod.metadata?.uid !== p.uid)) continue;
      out.push({
        apiVersion: 'metrics.k8s.io/v1beta1',
        kind: 'PodMetrics',
        metadata: { ...emptyMeta(), name: p.name, namespace: p.namespace, labels: { ...pod.metadata?.labels }, creationTimestamp: time(new Date().toISOString()) },
        timestamp: time(s.timestamp),
        window: windowText(s.windowSeconds),
        containers: p.containers.map((c) => ({
          name: c.name,
          usage: { cpu: cpuQuantity(c.cpuNanoCores), memory: memoryQuantity(c.memoryWorkingSetBytes) },
        })),
      });
    }
  }
  return out;
}

/** One NodeMetrics per node with a sample: the sum of its pods' containers. */
export function nodeMetrics(stats: readonly NodeStats[], labelsOf: (node: string) => Record<string, string>): NodeMetrics[] {
  return stats.filter((s) => s.timestamp).map((s) => ({
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind: 'NodeMetrics',
    metadata: { ...emptyMeta(), name: s.nodeName, labels: { ...labelsOf(s.nodeName) }, creationTimestamp: time(new Date().toISOString()) },
    timestamp: time(s.timestamp),
    window: windowText(s.windowSeconds),
    usage: { cpu: cpuQuantity(s.cpuNanoCores), memory: memoryQuantity(s.memoryWorkingSetBytes) },
  }));
}
