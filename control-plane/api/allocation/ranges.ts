// The two ranges Services draw from: ClusterIPs from --service-cluster-ip-range (an IPv4 CIDR)
// and NodePorts from --service-node-port-range. Each is a run of offsets 0..size-1, so one
// picking function (pick.ts) serves both. Pure.
import { formatIPv4, parseCidr, parseIPv4 } from '../../../proto/api/cidr.js';

export interface IpRange {
  /** As given, e.g. "10.96.0.0/16". */
  cidr: string;
  /** The network address as a 32-bit number. */
  network: number;
  /** Usable addresses: the network and broadcast addresses are never handed out (as Kubernetes). */
  size: number;
}

export interface PortRange {
  /** As given, e.g. "30000-32767". */
  text: string;
  base: number;
  size: number;
}

export interface ServiceRanges {
  clusterIPs: IpRange;
  nodePorts: PortRange;
}

export const DEFAULT_SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/16';
export const DEFAULT_SERVICE_NODE_PORT_RANGE = '30000-32767';

export { formatIPv4, parseIPv4 } from '../../../proto/api/cidr.js';

/** Kubernetes caps an IPv4 service range at /12 (1 Mi addresses); /30 is the smallest useful one. */
export function parseIpRange(cidr: string): IpRange {
  const bits = Number(/\/(\d{1,2})$/.exec(cidr)?.[1]);
  if (!(bits >= 12 && bits <= 30)) throw new Error(`"${cidr}" is not an IPv4 CIDR between /12 and /30 (e.g. 10.96.0.0/16)`);
  const c = parseCidr(cidr);
  if (typeof c === 'string') throw new Error(c);
  return { cidr, network: c.base, size: 2 ** (32 - c.bits) - 2 };
}

export function parsePortRange(text: string): PortRange {
  const m = /^(\d+)-(\d+)$/.exec(text);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!(lo >= 1 && hi <= 65535 && lo <= hi)) throw new Error(`"${text}" is not a port range FROM-TO within 1-65535 (e.g. 30000-32767)`);
  return { text, base: lo, size: hi - lo + 1 };
}

/** Offset of an address in the range, or undefined when it is outside the usable addresses. */
export function ipOffset(r: IpRange, ip: string): number | undefined {
  const n = parseIPv4(ip);
  if (n === undefined) return undefined;
  const off = n - r.network - 1;
  return off >= 0 && off < r.size ? off : undefined;
}

export function ipAt(r: IpRange, offset: number): string {
  return formatIPv4((r.network + 1 + offset) >>> 0);
}

export function portOffset(r: PortRange, port: number): number | undefined {
  const off = port - r.base;
  return off >= 0 && off < r.size ? off : undefined;
}

/**
 * Kubernetes' static sub-range (ServiceIPStaticSubrange, ServiceNodePortStaticSubrange): the
 * low band of a range is left for users who pick a value themselves; automatic allocation
 * takes it only when the rest is full. IPs: size/16 clamped to 16..256; ports: size/32 clamped
 * to 16..128; none for ranges smaller than 16.
 */
export function staticBand(size: number, step: number, max: number): number {
  if (size < 16) return 0;
  return Math.max(16, Math.min(Math.floor(size / step), max));
}

export const ipStaticBand = (r: IpRange): number => staticBand(r.size, 16, 256);
export const portStaticBand = (r: PortRange): number => staticBand(r.size, 32, 128);

export function defaultServiceRanges(): ServiceRanges {
  return { clusterIPs: parseIpRange(DEFAULT_SERVICE_CLUSTER_IP_RANGE), nodePorts: parsePortRange(DEFAULT_SERVICE_NODE_PORT_RANGE) };
}
