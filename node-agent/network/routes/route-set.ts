// The routes a host-gw pod network needs, from a snapshot of the Nodes (flannel's host-gw,
// kindnetd): one route per other Ready node that has a pod range and an InternalIP,
// `podCIDR via InternalIP`, and the diff from what the kernel holds to that set. Pure: the
// kernel side is route-table.ts.
import { formatCidr, overlaps, parseCidr, parseIPv4, type Cidr } from '../../../proto/api/cidr.js';
import type { Node } from '../../../proto/gen/skiff/v1/core.js';

export interface Route {
  /** Destination range, "a.b.c.d/n". */
  dst: string;
  /** Gateway: the other node's InternalIP. */
  via: string;
}

export interface SkippedNode {
  node: string;
  reason: string;
}

export interface RouteSet {
  routes: Route[];
  /** Other nodes that get no route, and why (for logs). */
  skipped: SkippedNode[];
}

export function nodeReady(n: Node): boolean {
  return n.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function internalIP(n: Node): string {
  return n.status?.addresses.find((a) => a.type === 'InternalIP')?.address ?? '';
}

/**
 * The desired routes seen from node `self`. A range that overlaps this node's own is never
 * routed away (it would take local pods' traffic); of two nodes claiming overlapping ranges the
 * one first by name wins, so every agent computes the same set.
 */
export function desiredRoutes(nodes: readonly Node[], self: string): RouteSet {
  const me = nodes.find((n) => n.metadata?.name === self);
  const own = me?.spec?.podCIDR ? parseCidr(me.spec.podCIDR) : undefined;
  const routes: Route[] = [];
  const taken: { cidr: Cidr; node: string }[] = [];
  const skipped: SkippedNode[] = [];
  const others = nodes.filter((n) => n.metadata?.name !== self).sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const n of others) {
    const name = n.metadata?.name ?? '';
    const text = n.spec?.podCIDR ?? '';
    if (!text) {
      skipped.push({ node: name, reason: 'no podCIDR yet' });
      continue;
    }
    if (!nodeReady(n)) {
      skipped.push({ node: name, reason: 'not Ready' });
      continue;
    }
    const ip = internalIP(n);
    if (parseIPv4(ip) === undefined) {
      skipped.push({ node: name, reason: ip ? `InternalIP ${ip} is not IPv4` : 'no InternalIP' });
      continue;
    }
    const cidr = parseCidr(text);
    if (typeof cidr === 'string') {
      skipped.push({ node: name, reason: cidr });
      continue;
    }
    if (own && typeof own !== 'string' && overlaps(own, cidr)) {
      skipped.push({ node: name, reason: `podCIDR ${text} overlaps this node's own ${formatCidr(own)}` });
      continue;
    }
    const clash = taken.find((t) => overlaps(t.cidr, cidr));
    if (clash) {
      skipped.push({ node: name, reason: `podCIDR ${text} overlaps node ${clash.node}'s` });
      continue;
    }
    taken.push({ cidr, node: name });
    routes.push({ dst: formatCidr(cidr), via: ip });
  }
  routes.sort((a, b) => a.dst.localeCompare(b.dst));
  return { routes, skipped };
}

export interface RouteDiff {
  /** Missing or pointing elsewhere: `ip route replace`. */
  replace: Route[];
  /** Ours but no longer wanted: `ip route del`. */
  del: Route[];
}

export function diffRoutes(current: readonly Route[], desired: readonly Route[]): RouteDiff {
  const want = new Map(desired.map((r) => [r.dst, r.via]));
  const exact = new Set(current.filter((r) => want.get(r.dst) === r.via).map((r) => r.dst));
  const kept = new Set<string>();
  const del: Route[] = [];
  for (const r of current) {
    const via = want.get(r.dst);
    if (via === r.via && !kept.has(r.dst)) kept.add(r.dst);
    // Unwanted, a duplicate, or a stale gateway beside the right one. A stale gateway alone is
    // left to `replace`, which rewrites it in place, so the range is never without a route.
    else if (via === undefined || via === r.via || exact.has(r.dst)) del.push(r);
  }
  const replace = desired.filter((r) => !exact.has(r.dst));
  return { replace, del };
}
