// The pure half of cluster DNS: a ServiceSnapshot in, a name -> records index out (CoreDNS's
// kubernetes plugin answers from the same kind of cache, never from the API per query).
//   <svc>.<ns>.svc.<domain>            A     ClusterIP, or each ready endpoint when headless
//   <host>.<svc>.<ns>.svc.<domain>     A     headless endpoint (hostname, else dashed IP)
//   _<port>._<proto>.<svc>.<ns>.svc... SRV   named ports (ClusterIP: the service; headless: each endpoint)
//   <d.c.b.a>.in-addr.arpa             PTR   ClusterIPs
// Every ancestor of a name inside the zone exists too (empty non-terminals answer NODATA, not
// NXDOMAIN, so resolvers do not cache the whole subtree away).
import { isIPv4 } from 'node:net';
import { isHeadless, servicePortKey, type EndpointInfo, type ServiceInfo, type ServiceSnapshot } from '../snapshot.js';

export const DEFAULT_DOMAIN = 'cluster.local';
/** CoreDNS kubernetes plugin default TTL. */
export const TTL = 5;

export interface Srv {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface NameRecords {
  a: string[];
  srv: Srv[];
  ptr: string[];
}

export interface Zone {
  domain: string;
  names: Map<string, NameRecords>;
  /** Serial for the SOA: changes whenever the index is rebuilt. */
  serial: number;
}

/** Lower case, no trailing dot: the form every lookup uses. */
export function canonical(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

export function reverseName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

function entry(z: Zone, name: string): NameRecords {
  let r = z.names.get(name);
  if (!r) {
    r = { a: [], srv: [], ptr: [] };
    z.names.set(name, r);
  }
  return r;
}

/** Registers name and its ancestors down to the zone apex. */
function touch(z: Zone, name: string): NameRecords {
  const r = entry(z, name);
  if (name.endsWith(`.${z.domain}`)) {
    let rest = name;
    while (rest !== z.domain) {
      rest = rest.slice(rest.indexOf('.') + 1);
      entry(z, rest);
    }
  }
  return r;
}

function addUnique<T>(list: T[], v: T, same: (a: T, b: T) => boolean): void {
  if (!list.some((x) => same(x, v))) list.push(v);
}

/** A DNS label for an endpoint of a headless service: its hostname, else the dashed IP (as CoreDNS). */
function endpointLabel(e: EndpointInfo): string {
  return (e.hostname || e.address.replace(/\./g, '-')).toLowerCase();
}

export function buildZone(snapshot: ServiceSnapshot, domain = DEFAULT_DOMAIN, serial = 1): Zone {
  const z: Zone = { domain: canonical(domain), names: new Map(), serial };
  entry(z, z.domain);
  for (const svc of snapshot.services) addService(z, svc, snapshot);
  return z;
}

function readyEndpoints(svc: ServiceInfo, snapshot: ServiceSnapshot, portName: string): EndpointInfo[] {
  return (snapshot.endpoints.get(servicePortKey(svc.namespace, svc.name, portName)) ?? []).filter((e) => e.ready && isIPv4(e.address));
}

function addService(z: Zone, svc: ServiceInfo, snapshot: ServiceSnapshot): void {
  const base = canonical(`${svc.name}.${svc.namespace}.svc.${z.domain}`);
  const rec = touch(z, base);
  const same = (a: string, b: string) => a === b;
  const sameSrv = (a: Srv, b: Srv) => a.port === b.port && a.target === b.target;
  if (!isHeadless(svc)) {
    if (!isIPv4(svc.clusterIP)) return;
    addUnique(rec.a, svc.clusterIP, same);
    addUnique(entry(z, reverseName(svc.clusterIP)).ptr, base, same);
    for (const p of svc.ports) {
      if (!p.name) continue;
      addUnique(touch(z, `_${p.name}._${p.protocol.toLowerCase()}.${base}`).srv, { priority: 0, weight: 100, port: p.port, target: base }, sameSrv);
    }
    return;
  }
  // Headless: the service name resolves to its ready endpoints, on any port (or none).
  const portNames = svc.ports.length > 0 ? svc.ports.map((p) => p.name) : [''];
  for (const portName of portNames) {
    for (const e of readyEndpoints(svc, snapshot, portName)) {
      addUnique(rec.a, e.address, same);
      addUnique(touch(z, `${endpointLabel(e)}.${base}`).a, e.address, same);
    }
  }
  for (const p of svc.ports) {
    if (!p.name) continue;
    const srv = touch(z, `_${p.name}._${p.protocol.toLowerCase()}.${base}`).srv;
    for (const e of readyEndpoints(svc, snapshot, p.name)) {
      addUnique(srv, { priority: 0, weight: 100, port: e.port, target: `${endpointLabel(e)}.${base}` }, sameSrv);
    }
  }
}
