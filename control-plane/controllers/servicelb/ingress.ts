// The pure half of the service load balancer (k3s ServiceLB's shape): a LoadBalancer Service's
// port is published by every node's proxy on the node's own addresses, so its ingress is the
// list of those addresses. Ready nodes only: a NotReady node's proxy may not be serving.
import type { LoadBalancerIngress, Node, Service } from '../../../proto/gen/skiff/v1/core.js';

function nodeReady(n: Node): boolean {
  return n.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** InternalIPs of the Ready, non-deleted nodes, sorted (so the status is stable across syncs). */
export function ingressFor(svc: Service, nodes: Iterable<Node>): LoadBalancerIngress[] {
  if (svc.spec?.type !== 'LoadBalancer') return [];
  const ips = new Set<string>();
  for (const n of nodes) {
    if (n.metadata?.deletionTimestamp || !nodeReady(n)) continue;
    const ip = n.status?.addresses.find((a) => a.type === 'InternalIP')?.address;
    if (ip) ips.add(ip);
  }
  const ipNum = (ip: string): number => ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  return [...ips].sort((a, b) => ipNum(a) - ipNum(b) || a.localeCompare(b)).map((ip) => ({ ip, hostname: '' }));
}

export function sameIngress(a: readonly LoadBalancerIngress[], b: readonly LoadBalancerIngress[]): boolean {
  return a.length === b.length && a.every((x, i) => x.ip === b[i]?.ip && x.hostname === b[i]?.hostname);
}
