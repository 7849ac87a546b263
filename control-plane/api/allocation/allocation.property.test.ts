// Properties of the pure allocator: a picked value is free and in range, the dynamic band is
// preferred, nothing is returned only when the range is full, and a service never gets a
// value that is taken or that another of its own ports holds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Service } from '../../../proto/gen/skiff/v1/core.js';
import { pickFree } from './pick.js';
import { ipAt, ipOffset, parseIpRange, parsePortRange, portOffset, staticBand, type ServiceRanges } from './ranges.js';
import { allocateService } from './service.js';

const randomFrom = (seed: number) => (n: number): number => Math.abs(seed) % n;

describe('pickFree', () => {
  it('returns a free offset in range, in the dynamic band while it has room, and undefined only when full', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 64 }),
        fc.array(fc.integer({ min: 0, max: 299 })),
        fc.integer(),
        (size, bandIn, takenList, seed) => {
          const band = Math.min(bandIn, size);
          const taken = new Set(takenList.filter((t) => t < size));
          const off = pickFree(size, band, taken, randomFrom(seed));
          if (taken.size === size) return off === undefined;
          if (off === undefined || off < 0 || off >= size || taken.has(off)) return false;
          let dynamicFree = false;
          for (let i = band; i < size; i++) if (!taken.has(i)) dynamicFree = true;
          return dynamicFree ? off >= band : off < band;
        },
      ),
    );
  });

  it('hands out every offset exactly once when called until full', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer(), (size, seed) => {
        const taken = new Set<number>();
        let r = seed;
        const random = (n: number): number => {
          r = (r * 1103515245 + 12345) & 0x7fffffff;
          return r % n;
        };
        for (let i = 0; i < size; i++) {
          const off = pickFree(size, staticBand(size, 16, 256), taken, random);
          if (off === undefined || taken.has(off)) return false;
          taken.add(off);
        }
        return pickFree(size, 0, taken, random) === undefined;
      }),
    );
  });
});

describe('ranges', () => {
  it('maps offsets to usable addresses and back, never the network or broadcast address', () => {
    const r = parseIpRange('10.96.0.0/16');
    expect(r.size).toBe(65534);
    expect(ipAt(r, 0)).toBe('10.96.0.1');
    expect(ipAt(r, r.size - 1)).toBe('10.96.255.254');
    expect(ipOffset(r, '10.96.0.0')).toBeUndefined();
    expect(ipOffset(r, '10.96.255.255')).toBeUndefined();
    expect(ipOffset(r, '10.97.0.1')).toBeUndefined();
    fc.assert(fc.property(fc.integer({ min: 0, max: r.size - 1 }), (off) => ipOffset(r, ipAt(r, off)) === off));
  });

  it('refuses ranges that are not what the flags take', () => {
    expect(() => parseIpRange('10.96.0.1/16')).toThrow(/host bits/);
    expect(() => parseIpRange('10.96.0.0/8')).toThrow(/between \/12 and \/30/);
    expect(() => parseIpRange('10.96.0/16')).toThrow();
    expect(() => parsePortRange('32767-30000')).toThrow();
    expect(parsePortRange('30000-32767').size).toBe(2768);
  });

  it('has Kubernetes static bands: 256 addresses of a /16, 86 ports of 30000-32767', () => {
    expect(staticBand(65534, 16, 256)).toBe(256);
    expect(staticBand(2768, 32, 128)).toBe(86);
    expect(staticBand(10, 16, 256)).toBe(0);
  });
});

const small: ServiceRanges = { clusterIPs: parseIpRange('10.96.0.0/28'), nodePorts: parsePortRange('30000-30019') };

function svc(ports: { port: number; nodePort?: number; protocol?: string }[], clusterIP = '', type = 'NodePort'): Service {
  return Service.fromPartial({
    metadata: { name: 's' },
    spec: { type, clusterIP, ports: ports.map((p, i) => ({ name: `p${i}`, protocol: p.protocol ?? 'TCP', port: p.port, nodePort: p.nodePort ?? 0 })) },
  });
}

describe('allocateService', () => {
  it('never picks a taken IP or port, nor one port twice, and fills everything while there is room', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: small.clusterIPs.size - 1 })),
        fc.uniqueArray(fc.integer({ min: 0, max: small.nodePorts.size - 1 })),
        fc.integer({ min: 1, max: 4 }),
        fc.integer(),
        (ips, ports, nPorts, seed) => {
          const s = svc(Array.from({ length: nPorts }, (_, i) => ({ port: 80 + i })));
          const res = allocateService(s, undefined, small, { ips: new Set(ips), ports: new Set(ports) }, randomFrom(seed));
          const ipOff = ipOffset(small.clusterIPs, s.spec!.clusterIP);
          if (ips.length === small.clusterIPs.size) {
            if (!res.causes.some((c) => c.field === 'spec.clusterIP')) return false;
          } else if (ipOff === undefined || ips.includes(ipOff) || !res.auto.includes('spec.clusterIP')) return false;
          const picked = s.spec!.ports.map((p) => p.nodePort).filter((n) => n !== 0).map((n) => portOffset(small.nodePorts, n)!);
          if (new Set(picked).size !== picked.length || picked.some((o) => ports.includes(o))) return false;
          return picked.length === Math.min(nPorts, small.nodePorts.size - ports.length);
        },
      ),
    );
  });

  it('says a chosen IP or port is taken or out of range, with the field path', () => {
    const taken = { ips: new Set([ipOffset(small.clusterIPs, '10.96.0.10')!]), ports: new Set([portOffset(small.nodePorts, 30005)!]) };
    const s = svc([{ port: 80, nodePort: 30005 }, { port: 81, nodePort: 40000 }], '10.96.0.10');
    const res = allocateService(s, undefined, small, taken, randomFrom(0));
    expect(res.causes).toEqual([
      { field: 'spec.clusterIP', message: 'Invalid value: "10.96.0.10": provided IP is already allocated' },
      { field: 'spec.ports[0].nodePort', message: 'Invalid value: 30005: provided port is already allocated' },
      { field: 'spec.ports[1].nodePort', message: 'Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-30019' },
    ]);
    const out = allocateService(svc([{ port: 80 }], '10.1.0.1'), undefined, small, taken, randomFrom(0));
    expect(out.causes[0]).toEqual({
      field: 'spec.clusterIP',
      message: 'Invalid value: "10.1.0.1": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/28',
    });
  });

  it('leaves headless services without an IP and keeps the values an update already holds', () => {
    const headless = svc([{ port: 80 }], 'None', 'ClusterIP');
    expect(allocateService(headless, undefined, small, { ips: new Set(), ports: new Set() }, randomFrom(0))).toEqual({ causes: [], auto: [] });
    expect(headless.spec!.clusterIP).toBe('None');
    const old = svc([{ port: 80, nodePort: 30005 }], '10.96.0.10');
    const next = svc([{ port: 80, nodePort: 30005 }], '10.96.0.10');
    // Its own values are reserved (by itself): not reported as taken.
    const taken = { ips: new Set([ipOffset(small.clusterIPs, '10.96.0.10')!]), ports: new Set([portOffset(small.nodePorts, 30005)!]) };
    expect(allocateService(next, old, small, taken, randomFrom(0))).toEqual({ causes: [], auto: [] });
  });
});
