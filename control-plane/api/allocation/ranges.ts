// The two ranges Services draw from: ClusterIPs from --service-cluster-ip-range (an IPv4 CIDR)
// and NodePorts from --service-node-port-range. Each is a run of offsets 0..size-1, so one
// picking function (pick.ts) serves both. Pure.

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

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address as a 32-bit number, or undefined when it is not a dotted-quad IPv4 address. */
export function parseIPv4(s: string): number | undefined {
  const m = IPV4.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p, i) => p > 255 || (m[i + 1]!.length > 1 && m[i + 1]!.startsWith('0')))) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Kubernetes caps an IPv4 service range at /12 (1 Mi addresses); /30 is the smallest useful one. */
export function parseIpRange(cidr: string): IpRange {
  const [addr = '', bitsText = '', extra] = cidr.split('/');
  const ip = parseIPv4(addr);
  const bits = /^\d+$/.test(bitsText) ? Number(bitsText) : NaN;
  if (ip === undefined || extra !== undefined || !(bits >= 12 && bits <= 30)) {
    throw new Error(`"${cidr}" is not an IPv4 CIDR between /12 and /30 (e.g. 10.96.0.0/16)`);
  }
  const mask = (0xffffffff << (32 - bits)) >>> 0;
  const network = (ip & mask) >>> 0;
  if (network !== ip) throw new Error(`"${cidr}" has host bits set; the network is ${formatIPv4(network)}/${bits}`);
  return { cidr, network, size: 2 ** (32 - bits) - 2 };
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
