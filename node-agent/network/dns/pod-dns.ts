// A pod's resolver configuration per dnsPolicy, as the kubelet builds it (pkg/kubelet/network/dns)
// and hands it to the runtime as CRI DNSConfig {servers, searches, options}:
//   ClusterFirst (the default): the cluster DNS, search <ns>.svc.<domain> svc.<domain> <domain>
//     then the node's own search list, options ndots:5; a hostNetwork pod falls back to Default.
//   ClusterFirstWithHostNet: ClusterFirst, hostNetwork or not.
//   Default: the node's resolv.conf.
//   None: only pod.spec.dnsConfig.
// pod.spec.dnsConfig (nameservers, searches, options) is merged on top for every policy.
import type { SandboxDns } from '../../runtime/runtime.js';
import type { ResolvConf } from './resolv-conf.js';

/** CRI runtime.v1 DNSConfig, as the runtime interface carries it. */
export type DnsConfig = SandboxDns;

/** pod.spec.dnsConfig (core/v1 PodDNSConfig). */
export interface PodDnsConfig {
  nameservers?: string[];
  searches?: string[];
  options?: { name: string; value?: string }[];
}

export interface PodDnsInput {
  /** pod.spec.dnsPolicy; "" means ClusterFirst. */
  dnsPolicy: string;
  hostNetwork: boolean;
  namespace: string;
  dnsConfig?: PodDnsConfig;
}

export interface NodeDns {
  /** The node's cluster DNS server address (what the agent's DNS server listens on). */
  clusterDNS: string;
  clusterDomain: string;
  /** The node's /etc/resolv.conf. */
  host: ResolvConf;
}

/** Kubernetes' limits (validation and kubelet): 3 nameservers, 32 search domains of 2048 chars. */
const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;
const MAX_SEARCH_CHARS = 2048;

export class DnsPolicyError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'DnsPolicyError';
  }
}

const dedupe = (xs: string[]): string[] => [...new Set(xs)];

function limitSearches(searches: string[]): string[] {
  const out: string[] = [];
  let chars = 0;
  for (const s of dedupe(searches)) {
    if (out.length === MAX_SEARCHES || chars + s.length + (out.length ? 1 : 0) > MAX_SEARCH_CHARS) break;
    chars += s.length + (out.length ? 1 : 0);
    out.push(s);
  }
  return out;
}

/** Options by name, later ones replacing earlier ones ("ndots:5" then "ndots:2" -> "ndots:2"). */
function mergeOptions(base: string[], extra: { name: string; value?: string }[]): string[] {
  const byName = new Map<string, string>();
  for (const o of base) byName.set(o.split(':')[0]!, o);
  for (const o of extra) byName.set(o.name, o.value !== undefined && o.value !== '' ? `${o.name}:${o.value}` : o.name);
  return [...byName.values()];
}

function fromHost(host: ResolvConf): DnsConfig {
  return { servers: [...host.nameservers], searches: [...host.searches], options: [...host.options] };
}

export function podDnsConfig(pod: PodDnsInput, node: NodeDns): DnsConfig {
  const policy = pod.dnsPolicy || 'ClusterFirst';
  let cfg: DnsConfig;
  switch (policy) {
    case 'ClusterFirst':
    case 'ClusterFirstWithHostNet':
      if (policy === 'ClusterFirst' && pod.hostNetwork) {
        cfg = fromHost(node.host);
        break;
      }
      cfg = {
        servers: [node.clusterDNS],
        searches: [`${pod.namespace}.svc.${node.clusterDomain}`, `svc.${node.clusterDomain}`, node.clusterDomain, ...node.host.searches],
        options: ['ndots:5'],
      };
      break;
    case 'Default':
      cfg = fromHost(node.host);
      break;
    case 'None':
      if (!pod.dnsConfig?.nameservers?.length) {
        throw new DnsPolicyError('spec.dnsConfig.nameservers', 'must have at least one nameserver when dnsPolicy is None');
      }
      cfg = { servers: [], searches: [], options: [] };
      break;
    default:
      throw new DnsPolicyError('spec.dnsPolicy', `unsupported value "${policy}": supported values: "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"`);
  }
  const extra = pod.dnsConfig;
  return {
    servers: dedupe([...cfg.servers, ...(extra?.nameservers ?? [])]).slice(0, MAX_NAMESERVERS),
    searches: limitSearches([...cfg.searches, ...(extra?.searches ?? [])]),
    options: mergeOptions(cfg.options, extra?.options ?? []),
  };
}
