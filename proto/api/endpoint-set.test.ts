import { describe, expect, it } from 'vitest';
import { EndpointSet, controlPlaneList, movesOn } from './endpoint-set.js';
import { EndpointsError } from './endpoints.js';

class Chan {
  closed = false;
  constructor(readonly address: string) {}
  close(): void {
    this.closed = true;
  }
}

describe('EndpointSet', () => {
  it('splits a server list into its control planes, one entry for one address or name', () => {
    expect(controlPlaneList('http://10.0.0.1:6443, 10.0.0.2:6443')).toEqual(['10.0.0.1:6443', '10.0.0.2:6443']);
    expect(controlPlaneList('cp.example:6443')).toEqual(['cp.example:6443']);
    expect(() => controlPlaneList('a.example:1,b.example:2')).toThrow(EndpointsError);
    expect(() => controlPlaneList(' , ')).toThrow(EndpointsError);
  });

  it('moves to the next control plane once per failure of the one in use, round the list', () => {
    const made: Chan[] = [];
    const set = new EndpointSet(['a:1', 'b:2', 'c:3'], (addr) => {
      const c = new Chan(addr);
      made.push(c);
      return c;
    });
    const moves: [number, number][] = [];
    set.onMove((from, to) => moves.push([from, to]));
    expect(set.client().address).toBe('a:1');
    expect(made).toHaveLength(1);
    // Two calls in flight on a:1 both fail: one move, not two.
    expect(set.failed(0)).toBe(true);
    expect(set.failed(0)).toBe(false);
    expect(set.address).toBe('b:2');
    expect(set.failed(1)).toBe(true);
    expect(set.failed(2)).toBe(true);
    expect(set.address).toBe('a:1');
    expect(moves).toEqual([[0, 1], [1, 2], [2, 0]]);
    expect(set.moves).toBe(3);
    expect(set.client()).toBe(made[0]);
    set.close();
    expect(made.every((c) => c.closed)).toBe(true);
  });

  it('never moves with a single control plane, and moves only on Unavailable or a timeout', () => {
    const set = new EndpointSet(['a:1'], (addr) => new Chan(addr));
    expect(set.failed(0)).toBe(false);
    expect(set.index).toBe(0);
    expect(['Unavailable', 'Timeout'].filter(movesOn)).toEqual(['Unavailable', 'Timeout']);
    expect(['Conflict', 'NotFound', 'Invalid', 'Forbidden', 'Internal'].filter(movesOn)).toEqual([]);
  });

  it('renews its channels in place: the control plane in use stays, old channels are handed back open', () => {
    class Gen extends Chan {
      constructor(address: string, readonly gen: number) {
        super(address);
      }
    }
    const set = new EndpointSet<Gen>(['a:1', 'b:2'], (addr) => new Gen(addr, 1));
    const first = set.client();
    set.failed(0);
    const second = set.client();
    const old = set.renew((addr) => new Gen(addr, 2));
    expect(old).toEqual([first, second]);
    expect(old.every((c) => !c.closed)).toBe(true);
    expect(set.index).toBe(1);
    expect(set.client()).toMatchObject({ address: 'b:2', gen: 2 });
    expect(set.client(0)).toMatchObject({ address: 'a:1', gen: 2 });
  });
});
