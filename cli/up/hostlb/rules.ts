// The host side of LoadBalancer Services on a `skiff up --nodes N` cluster, as k3d's load
// balancer does it: the nodes live in their own namespaces, so 127.0.0.1:PORT on the host
// reaches nothing by itself. One nft table on the host DNATs locally generated traffic to
// 127.0.0.1:PORT to the nodes' LAN addresses (the same port: each node's proxy publishes a
// LoadBalancer port on its own addresses), spread over them with numgen, and masquerades it to
// the bridge's address on the way out (a 127.0.0.1 source cannot leave the host's loopback;
// route_localnet on the bridge lets the rerouted packet be routed before that rewrite).
// Pure: a snapshot of Services and nodes in, an nft script out.
import type { Service } from '../../../proto/gen/skiff/v1/core.js';

export interface Forward {
  protocol: 'tcp' | 'udp';
  port: number;
  /** Node LAN addresses, sorted. */
  targets: string[];
}

/** The forwards of the LoadBalancer Services: each port to the nodes its ingress lists (all LAN nodes when it lists none of them). */
export function forwardsOf(services: readonly Service[], nodeAddresses: readonly string[]): Forward[] {
  const byKey = new Map<string, Forward>();
  for (const svc of services) {
    if (svc.spec?.type !== 'LoadBalancer') continue;
    const listed = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip) => nodeAddresses.includes(ip));
    const targets = [...new Set(listed.length ? listed : nodeAddresses)].sort();
    if (targets.length === 0) continue;
    for (const p of svc.spec.ports) {
      const protocol = (p.protocol || 'TCP').toLowerCase();
      if ((protocol !== 'tcp' && protocol !== 'udp') || !p.port) continue;
      const key = `${protocol}/${p.port}`;
      // Two Services on one port: the older listing wins on the nodes too (first come), so here as well.
      if (!byKey.has(key)) byKey.set(key, { protocol, port: p.port, targets });
    }
  }
  return [...byKey.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

function dnatTo(targets: readonly string[]): string {
  if (targets.length === 1) return `dnat to ${targets[0]!}`;
  return `dnat to numgen inc mod ${targets.length} map { ${targets.map((t, i) => `${i} : ${t}`).join(', ')} }`;
}

/**
 * The whole table as one nft script: created if missing, deleted, then written again, so one
 * `nft -f` replaces it atomically (no moment without rules, nothing stale left).
 */
export function hostLbRuleset(table: string, bridge: string, forwards: readonly Forward[]): string {
  const rules = forwards.map((f) => `    ip daddr 127.0.0.1 ${f.protocol} dport ${f.port} ${dnatTo(f.targets)}`);
  return [
    `table ip ${table} {}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    ...rules,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority 100; policy accept;',
    `    oifname "${bridge}" ip saddr 127.0.0.0/8 masquerade`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The table's name for a cluster LAN prefix (tests use their own prefixes, so runs never share it). */
export const hostLbTable = (prefix: string): string => `${prefix}_hostlb`;
