import { describe, expect, it } from 'vitest';
import { containsAddress, containsCidr, formatCidr, mustParseCidr, overlaps, parseCidr, parseIPv4 } from './cidr.js';

describe('cidr', () => {
  it('parses and formats IPv4 ranges', () => {
    expect(formatCidr(mustParseCidr('10.244.3.0/24'))).toBe('10.244.3.0/24');
    expect(formatCidr(mustParseCidr('0.0.0.0/0'))).toBe('0.0.0.0/0');
    expect(formatCidr(mustParseCidr('255.255.255.255/32'))).toBe('255.255.255.255/32');
  });

  it('says what is wrong with a bad range', () => {
    expect(parseCidr('10.244.3.1/24')).toMatch(/host bits set \(did you mean 10\.244\.3\.0\/24\?\)/);
    expect(parseCidr('10.244.3.0')).toMatch(/is not a CIDR/);
    expect(parseCidr('10.256.0.0/16')).toMatch(/not an IPv4 address/);
    expect(parseCidr('10.0.0.0/33')).toMatch(/prefix length/);
    expect(parseCidr('fd00::/64')).toMatch(/IPv6 ranges are not supported/);
    expect(parseIPv4('01.2.3.4')).toBeUndefined();
  });

  it('answers containment and overlap', () => {
    const cluster = mustParseCidr('10.244.0.0/16');
    expect(containsCidr(cluster, mustParseCidr('10.244.7.0/24'))).toBe(true);
    expect(containsCidr(cluster, mustParseCidr('10.0.0.0/8'))).toBe(false);
    expect(overlaps(cluster, mustParseCidr('10.0.0.0/8'))).toBe(true);
    expect(overlaps(cluster, mustParseCidr('10.245.0.0/24'))).toBe(false);
    expect(containsAddress(cluster, parseIPv4('10.244.255.1')!)).toBe(true);
  });
});
