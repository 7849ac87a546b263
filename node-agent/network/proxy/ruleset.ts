// The pure half of the node proxy: a ServiceSnapshot in, the complete desired nftables table
// out (as structured chains, sets and maps; transaction.ts turns it into `nft -f` text).
// Shaped like kube-proxy's nftables mode (pkg/proxy/nftables): verdict maps keyed by
// destination pick a per-service-port chain, which picks an endpoint chain with numgen, which
// DNATs. Packet paths:
//
//   prerouting/output (nat, -100) -> services: ip daddr . proto . port vmap @service-ips
//                                              fib daddr local: proto . port vmap @service-nodeports
//     service-<svc port>: mark masq if from outside the cluster CIDR; affinity; numgen -> endpoint-*
//     external-<svc port> (NodePort, LoadBalancer): mark masq, goto service-*
//     A LoadBalancer's own port is published on every local address too, through the same
//     @service-nodeports map (k3s ServiceLB / Swarm routing mesh: the port answers on every node).
//     endpoint-<svc port>__ip/port: mark masq if hairpin; update affinity set; dnat
//   postrouting (nat, 100) -> masquerading: masquerade marked packets; 127/8 leaving lo
//   input/forward/output (filter, 0): reject new connections to services without endpoints
//     (@no-endpoint-services, @no-endpoint-nodeports); reject anything still addressed to the
//     service CIDR (nothing sent to a virtual IP leaves the node).
import { isIPv4 } from 'node:net';
import { isHeadless, servicePortKey, type ServiceInfo, type ServiceSnapshot } from '../snapshot.js';
import { usableEndpoints } from './endpoints.js';
import { affinitySetName, endpointChainName, externalChainName, serviceChainName, servicePortName } from './names.js';

export interface RulesetOptions {
  /** The proxy's own table (family ip). */
  table: string;
  /** Service ClusterIP range (--service-cluster-ip-range), e.g. 10.96.0.0/16. */
  serviceCIDR: string;
  /** Pod network range; traffic to a ClusterIP from outside it is masqueraded. Optional. */
  clusterCIDR?: string;
  /** Mark bit for "masquerade this packet in postrouting" (kube-proxy: 0x4000). */
  masqueradeMark?: number;
}

export interface BaseHook {
  type: 'nat' | 'filter';
  hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  priority: number;
}

export interface Chain {
  name: string;
  hook?: BaseHook;
  rules: string[];
}

export interface NftSet {
  kind: 'set' | 'map';
  name: string;
  /** Declaration body, e.g. "type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ;". */
  spec: string;
  elements: string[];
  /** Dynamic sets filled by the packet path (affinity): never flushed by a sync. */
  dynamic: boolean;
}

export interface Ruleset {
  table: string;
  sets: Map<string, NftSet>;
  chains: Map<string, Chain>;
  /** Service ports programmed, with how many endpoints each got (0 = rejected). */
  servicePorts: number;
  endpointChains: number;
}

export const DEFAULT_MASQUERADE_MARK = 0x4000;

export const SERVICE_IPS = 'service-ips';
export const SERVICE_NODEPORTS = 'service-nodeports';
export const NO_ENDPOINT_SERVICES = 'no-endpoint-services';
export const NO_ENDPOINT_NODEPORTS = 'no-endpoint-nodeports';
export const CLUSTER_IPS = 'cluster-ips';
const REJECT_CHAIN = 'reject-chain';

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function baseRuleset(opts: RulesetOptions): Ruleset {
  const mark = hex(opts.masqueradeMark ?? DEFAULT_MASQUERADE_MARK);
  const sets = new Map<string, NftSet>();
  const addSet = (kind: 'set' | 'map', name: string, spec: string) => sets.set(name, { kind, name, spec, elements: [], dynamic: false });
  addSet('map', SERVICE_IPS, 'type ipv4_addr . inet_proto . inet_service : verdict ;');
  addSet('map', SERVICE_NODEPORTS, 'type inet_proto . inet_service : verdict ;');
  addSet('map', NO_ENDPOINT_SERVICES, 'type ipv4_addr . inet_proto . inet_service : verdict ;');
  addSet('map', NO_ENDPOINT_NODEPORTS, 'type inet_proto . inet_service : verdict ;');
  addSet('set', CLUSTER_IPS, 'type ipv4_addr ;');

  const chains = new Map<string, Chain>();
  const add = (name: string, rules: string[], hook?: BaseHook) => chains.set(name, { name, hook, rules });
  add('nat-prerouting', ['jump services'], { type: 'nat', hook: 'prerouting', priority: -100 });
  add('nat-output', ['jump services'], { type: 'nat', hook: 'output', priority: -100 });
  add('nat-postrouting', [
    'jump masquerading',
    // A NodePort reached on 127.0.0.1 leaves lo after DNAT (route_localnet): its source must
    // not stay a loopback address on the wire.
    'ip saddr 127.0.0.0/8 oifname != "lo" masquerade fully-random',
  ], { type: 'nat', hook: 'postrouting', priority: 100 });
  add('filter-input', ['ct state new jump nodeport-endpoints-check', 'ct state new jump service-endpoints-check'],
    { type: 'filter', hook: 'input', priority: 0 });
  add('filter-forward', ['ct state new jump service-endpoints-check', 'jump cluster-ips-check'],
    { type: 'filter', hook: 'forward', priority: 0 });
  add('filter-output', ['ct state new jump service-endpoints-check', 'jump cluster-ips-check'],
    { type: 'filter', hook: 'output', priority: 0 });
  add('services', [
    `ip daddr . meta l4proto . th dport vmap @${SERVICE_IPS}`,
    // Every local address, 127.0.0.1 included, accepts NodePorts.
    `fib daddr type local meta l4proto . th dport vmap @${SERVICE_NODEPORTS}`,
  ]);
  add('mark-for-masquerade', [`meta mark set meta mark or ${mark}`]);
  add('masquerading', [
    `meta mark and ${mark} == 0 return`,
    `meta mark set meta mark xor ${mark}`,
    'masquerade fully-random',
  ]);
  add('service-endpoints-check', [`ip daddr . meta l4proto . th dport vmap @${NO_ENDPOINT_SERVICES}`]);
  add('nodeport-endpoints-check', [`fib daddr type local meta l4proto . th dport vmap @${NO_ENDPOINT_NODEPORTS}`]);
  // Filter hooks run after DNAT, so whatever still has a service address here was not
  // rewritten: a live ClusterIP on a port it does not serve, or an unallocated one.
  add('cluster-ips-check', [`ip daddr @${CLUSTER_IPS} reject`, `ip daddr ${opts.serviceCIDR} reject`]);
  add(REJECT_CHAIN, ['reject']);
  return { table: opts.table, sets, chains, servicePorts: 0, endpointChains: 0 };
}

function compareServices(a: ServiceInfo, b: ServiceInfo): number {
  return a.namespace === b.namespace ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.namespace < b.namespace ? -1 : 1;
}

export function buildRuleset(snapshot: ServiceSnapshot, opts: RulesetOptions): Ruleset {
  const rs = baseRuleset(opts);
  // First writer of a key wins: the API never gives two services one IP and port, but a
  // duplicate must not fail the whole transaction either.
  const keys = new Set<string>();
  const mapEl = (name: string, el: string) => {
    const key = `${name} ${el.split(' : ')[0]}`;
    if (keys.has(key)) return;
    keys.add(key);
    rs.sets.get(name)!.elements.push(el);
  };
  for (const svc of [...snapshot.services].sort(compareServices)) {
    if (isHeadless(svc) || !isIPv4(svc.clusterIP)) continue;
    mapEl(CLUSTER_IPS, svc.clusterIP);
    for (const p of svc.ports) {
      const proto = p.protocol.toLowerCase();
      const spn = servicePortName(svc.namespace, svc.name, p.protocol, p.name);
      const nodePort = (svc.type === 'NodePort' || svc.type === 'LoadBalancer') && p.nodePort ? p.nodePort : 0;
      const lbPort = svc.type === 'LoadBalancer' ? p.port : 0;
      const eps = usableEndpoints(snapshot.endpoints.get(servicePortKey(svc.namespace, svc.name, p.name)) ?? []);
      rs.servicePorts++;
      if (eps.length === 0) {
        mapEl(NO_ENDPOINT_SERVICES, `${svc.clusterIP} . ${proto} . ${p.port} : goto ${REJECT_CHAIN}`);
        if (nodePort) mapEl(NO_ENDPOINT_NODEPORTS, `${proto} . ${nodePort} : goto ${REJECT_CHAIN}`);
        if (lbPort) mapEl(NO_ENDPOINT_NODEPORTS, `${proto} . ${lbPort} : goto ${REJECT_CHAIN}`);
        continue;
      }
      const svcChain = serviceChainName(spn);
      const affinity = svc.sessionAffinity === 'ClientIP';
      const timeout = svc.affinityTimeoutSeconds > 0 ? svc.affinityTimeoutSeconds : 10800;
      const svcRules: string[] = [];
      if (opts.clusterCIDR) svcRules.push(`ip daddr ${svc.clusterIP} ip saddr != ${opts.clusterCIDR} jump mark-for-masquerade`);
      const epChains: string[] = [];
      const affinityRules: string[] = [];
      for (const ep of eps) {
        const epChain = endpointChainName(spn, ep.address, ep.port);
        epChains.push(epChain);
        const rules = [`ip saddr ${ep.address} jump mark-for-masquerade`];
        if (affinity) {
          const set = affinitySetName(spn, ep.address, ep.port, timeout);
          rs.sets.set(set, { kind: 'set', name: set, spec: `type ipv4_addr ; flags dynamic,timeout ; timeout ${timeout}s ;`, elements: [], dynamic: true });
          // A client seen recently goes back to the endpoint it had, before any new choice.
          affinityRules.push(`ip saddr @${set} goto ${epChain}`);
          rules.push(`update @${set} { ip saddr }`);
        }
        rules.push(`meta l4proto ${proto} dnat to ${ep.address}:${ep.port}`);
        rs.chains.set(epChain, { name: epChain, rules });
        rs.endpointChains++;
      }
      svcRules.push(...affinityRules);
      svcRules.push(`numgen random mod ${epChains.length} vmap { ${epChains.map((c, i) => `${i} : goto ${c}`).join(' , ')} }`);
      rs.chains.set(svcChain, { name: svcChain, rules: svcRules });
      mapEl(SERVICE_IPS, `${svc.clusterIP} . ${proto} . ${p.port} : goto ${svcChain}`);
      if (nodePort || lbPort) {
        const ext = externalChainName(spn);
        // Cluster traffic policy: NodePort traffic is masqueraded so replies come back here.
        rs.chains.set(ext, { name: ext, rules: ['jump mark-for-masquerade', `goto ${svcChain}`] });
        if (nodePort) mapEl(SERVICE_NODEPORTS, `${proto} . ${nodePort} : goto ${ext}`);
        if (lbPort) mapEl(SERVICE_NODEPORTS, `${proto} . ${lbPort} : goto ${ext}`);
      }
    }
  }
  return rs;
}
