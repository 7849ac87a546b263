// Properties of the range allocator over random operation sequences: live ranges never
// overlap and stay inside the cluster CIDR, a released range can be handed out again, and a
// full cluster says so instead of reusing a range.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { containsCidr, formatCidr, type Cidr } from '../../../proto/api/cidr.js';
import { CidrExhaustedError, RangeAllocator } from './allocator.js';

type Op = { op: 'alloc'; node: number } | { op: 'release'; node: number } | { op: 'occupy'; node: number; index: number; widen: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('alloc' as const), node: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ op: fc.constant('release' as const), node: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ op: fc.constant('occupy' as const), node: fc.integer({ min: 0, max: 20 }), index: fc.nat(63), widen: fc.integer({ min: 0, max: 2 }) }),
);

describe('RangeAllocator properties', () => {
  it('never hands out a range that overlaps a held one, and keeps every range inside the cluster', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.array(opArb, { maxLength: 80 }), (extraBits, ops) => {
        // /24 cluster cut into /24+extraBits ranges: 1..16 ranges, so exhaustion happens often.
        const mask = 24 + extraBits;
        const a = new RangeAllocator('10.9.8.0/24', mask);
        const step = 2 ** (32 - mask);
        const model = new Map<number, string>(); // range index -> owner, as the allocator should hold it
        const indexOf = (base: number): number => (base - a.cluster.base) / step;
        for (const o of ops) {
          const name = `n${o.node}`;
          if (o.op === 'alloc') {
            try {
              const c = a.allocate(name);
              expect(c.bits).toBe(mask);
              expect(containsCidr(a.cluster, c)).toBe(true);
              const i = indexOf(c.base);
              expect(model.get(i), `${formatCidr(c)} given to ${name} is held by ${model.get(i)}`).toBeUndefined();
              model.set(i, name);
            } catch (e) {
              expect(e).toBeInstanceOf(CidrExhaustedError);
              expect(model.size).toBe(a.capacity);
            }
          } else if (o.op === 'release') {
            a.releaseOwner(name);
            for (const [i, n] of model) if (n === name) model.delete(i);
          } else {
            // A node that registers with its own range: possibly wider than a node range, possibly taken.
            const bits = Math.max(24, mask - o.widen);
            const idx = o.index % 2 ** (bits - 24);
            const c: Cidr = { base: (a.cluster.base + idx * 2 ** (32 - bits)) >>> 0, bits };
            const r = a.occupy(c, name);
            expect(r.outside).toBe(false);
            const clash = new Set<string>();
            for (let k = 0; k < 2 ** (mask - bits); k++) {
              const i = indexOf(c.base) + k;
              const held = model.get(i);
              if (held === undefined) model.set(i, name);
              else if (held !== name) clash.add(held);
            }
            if (!r.outside) expect(r.conflicts).toEqual([...clash].sort());
          }
          expect(a.used).toBe(model.size);
        }
        for (const [i, owner] of model) expect(a.rangesOf(owner).map(formatCidr)).toContain(formatCidr(a.rangeAt(i)));
      }),
      { numRuns: 300 },
    );
  });

  it('after exhaustion, the one released range is the one given next', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.nat(1000), (extraBits, pick) => {
        const a = new RangeAllocator('10.244.0.0/16', 16 + extraBits);
        const given = Array.from({ length: a.capacity }, (_, i) => a.allocate(`n${i}`));
        expect(new Set(given.map(formatCidr)).size).toBe(a.capacity);
        expect(() => a.allocate('late')).toThrow(CidrExhaustedError);
        const k = pick % a.capacity;
        a.release(given[k]!, `n${k}`);
        expect(formatCidr(a.allocate('late'))).toBe(formatCidr(given[k]!));
        expect(() => a.allocate('later')).toThrow(/no free \/\d+ range left in the cluster CIDR 10\.244\.0\.0\/16/);
      }),
    );
  });
});

describe('RangeAllocator', () => {
  it('cuts 10.244.0.0/16 into /24s in order', () => {
    const a = new RangeAllocator('10.244.0.0/16', 24);
    expect(a.capacity).toBe(256);
    expect([a.allocate('a'), a.allocate('b')].map(formatCidr)).toEqual(['10.244.0.0/24', '10.244.1.0/24']);
  });

  it('does not hand a just-freed range out again while others are free', () => {
    const a = new RangeAllocator('10.244.0.0/16', 24);
    const first = a.allocate('a');
    a.release(first, 'a');
    expect(formatCidr(a.allocate('b'))).toBe('10.244.1.0/24');
  });

  it('ignores ranges outside the cluster and releases only what the owner holds', () => {
    const a = new RangeAllocator('10.244.0.0/16', 24);
    expect(a.occupy({ base: 0x0a580000, bits: 24 }, 'x')).toEqual({ outside: true });
    const c = a.allocate('a');
    a.release(c, 'b');
    expect(a.used).toBe(1);
    expect(a.releaseOwner('a').map(formatCidr)).toEqual(['10.244.0.0/24']);
    expect(a.used).toBe(0);
  });

  it('rejects mask sizes outside the cluster or too fine', () => {
    expect(() => new RangeAllocator('10.244.0.0/16', 15)).toThrow(/between the cluster CIDR's 16 and 32/);
    expect(() => new RangeAllocator('10.0.0.0/8', 25)).toThrow(/at most 16 bits more/);
    expect(() => new RangeAllocator('10.244.0.1/16', 24)).toThrow(/host bits set/);
  });
});
