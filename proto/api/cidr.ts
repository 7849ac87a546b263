// IPv4 CIDR ranges as numbers: parsed once, compared and formatted without string games. Shared
// by the control plane (node range allocation, Node validation) and the agent (routes, nft).
// IPv6 is not supported yet: every parser here says so instead of misreading an address.

export interface Cidr {
  /** Network address as an unsigned 32-bit number (host bits cleared). */
  base: number;
  /** Prefix length, 0..32. */
  bits: number;
}

/** Parses a dotted IPv4 address into an unsigned 32-bit number, or undefined. */
export function parseIPv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * Parses "a.b.c.d/n". Returns an error message instead when it is not one, or when host bits
 * are set ("10.0.0.1/24" names an address, not a range, as Go's net.ParseCIDR callers reject).
 */
export function parseCidr(s: string): Cidr | string {
  if (s.includes(':')) return `"${s}": IPv6 ranges are not supported`;
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  if (!m) return `"${s}" is not a CIDR (a.b.c.d/n)`;
  const addr = parseIPv4(m[1]!);
  const bits = Number(m[2]);
  if (addr === undefined) return `"${s}": "${m[1]}" is not an IPv4 address`;
  if (bits > 32) return `"${s}": prefix length must be 0..32`;
  const base = (addr & maskOf(bits)) >>> 0;
  if (base !== addr) return `"${s}" has host bits set (did you mean ${formatIPv4(base)}/${bits}?)`;
  return { base, bits };
}

/** parseCidr that throws the message (for flags and values known to be valid). */
export function mustParseCidr(s: string): Cidr {
  const c = parseCidr(s);
  if (typeof c === 'string') throw new Error(c);
  return c;
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.bits}`;
}

/** Number of addresses in the range. */
export function sizeOf(c: Cidr): number {
  return 2 ** (32 - c.bits);
}

export function containsAddress(c: Cidr, addr: number): boolean {
  return ((addr & maskOf(c.bits)) >>> 0) === c.base;
}

/** Whether inner lies wholly inside outer. */
export function containsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.bits >= outer.bits && containsAddress(outer, inner.base);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return containsCidr(a, b) || containsCidr(b, a);
}
