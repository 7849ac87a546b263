import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Node } from '../../../proto/gen/skiff/v1/core.js';
import { desiredRoutes, diffRoutes, type Route } from './route-set.js';

function node(name: string, podCIDR: string, ip: string, ready = true): Node {
  return Node.fromPartial({
    metadata: { name },
    spec: { podCIDR, podCIDRs: podCIDR ? [podCIDR] : [] },
    status: {
      addresses: ip ? [{ type: 'Hostname', address: name }, { type: 'InternalIP', address: ip }] : [],
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'Unknown' }],
    },
  });
}

describe('desiredRoutes', () => {
  it('routes each other Ready node\'s pod range via its InternalIP, and says why others get none', () => {
    const nodes = [
      node('n1', '10.244.0.0/24', '10.0.0.1'),
      node('n3', '10.244.2.0/24', '10.0.0.3'),
      node('n2', '10.244.1.0/24', '10.0.0.2'),
      node('down', '10.244.3.0/24', '10.0.0.4', false),
      node('new', '', '10.0.0.5'),
      node('noip', '10.244.5.0/24', ''),
      node('v6', '10.244.6.0/24', 'fd00::6'),
    ];
    const { routes, skipped } = desiredRoutes(nodes, 'n1');
    expect(routes).toEqual([
      { dst: '10.244.1.0/24', via: '10.0.0.2' },
      { dst: '10.244.2.0/24', via: '10.0.0.3' },
    ]);
    expect(skipped).toEqual([
      { node: 'down', reason: 'not Ready' },
      { node: 'new', reason: 'no podCIDR yet' },
      { node: 'noip', reason: 'no InternalIP' },
      { node: 'v6', reason: 'InternalIP fd00::6 is not IPv4' },
    ]);
  });

  it('never routes a range overlapping its own away, and of two overlapping ranges routes the first by name', () => {
    const nodes = [
      node('me', '10.244.0.0/24', '10.0.0.1'),
      node('thief', '10.244.0.0/23', '10.0.0.9'),
      node('b', '10.244.4.0/24', '10.0.0.2'),
      node('a', '10.244.4.0/24', '10.0.0.3'),
    ];
    const { routes, skipped } = desiredRoutes(nodes, 'me');
    expect(routes).toEqual([{ dst: '10.244.4.0/24', via: '10.0.0.3' }]);
    expect(skipped).toEqual([
      { node: 'b', reason: "podCIDR 10.244.4.0/24 overlaps node a's" },
      { node: 'thief', reason: "podCIDR 10.244.0.0/23 overlaps this node's own 10.244.0.0/24" },
    ]);
  });

  it('gives a node alone nothing to route', () => {
    expect(desiredRoutes([node('solo', '10.244.0.0/24', '10.0.0.1')], 'solo')).toEqual({ routes: [], skipped: [] });
  });
});

describe('diffRoutes', () => {
  it('replaces what is missing or points elsewhere, deletes what is no longer wanted', () => {
    const current: Route[] = [
      { dst: '10.244.1.0/24', via: '10.0.0.2' }, // right
      { dst: '10.244.2.0/24', via: '10.0.0.9' }, // stale gateway
      { dst: '10.244.3.0/24', via: '10.0.0.4' }, // node gone
    ];
    const desired: Route[] = [
      { dst: '10.244.1.0/24', via: '10.0.0.2' },
      { dst: '10.244.2.0/24', via: '10.0.0.3' },
      { dst: '10.244.5.0/24', via: '10.0.0.5' },
    ];
    expect(diffRoutes(current, desired)).toEqual({
      replace: [{ dst: '10.244.2.0/24', via: '10.0.0.3' }, { dst: '10.244.5.0/24', via: '10.0.0.5' }],
      del: [{ dst: '10.244.3.0/24', via: '10.0.0.4' }],
    });
  });

  it('removes duplicates and a stale gateway beside the right one', () => {
    const r = { dst: '10.244.1.0/24', via: '10.0.0.2' };
    const stale = { dst: '10.244.1.0/24', via: '10.0.0.7' };
    expect(diffRoutes([r, stale, r], [r])).toEqual({ replace: [], del: [stale, r] });
  });

  it('converges: applying the diff to any current set gives exactly the desired set', () => {
    const routeArb: fc.Arbitrary<Route> = fc.record({ dst: fc.constantFrom('10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24'), via: fc.constantFrom('10.0.0.1', '10.0.0.2') });
    fc.assert(
      fc.property(fc.array(routeArb, { maxLength: 6 }), fc.uniqueArray(routeArb, { selector: (r) => r.dst, maxLength: 3 }), (current, desired) => {
        // A kernel model: replace rewrites the first route of a destination; del removes one exact match.
        const table: Route[] = [...current];
        for (let pass = 0; pass < 2; pass++) {
          const { replace, del } = diffRoutes(table, desired);
          for (const r of replace) {
            const i = table.findIndex((x) => x.dst === r.dst);
            if (i >= 0) table[i] = r;
            else table.push(r);
          }
          for (const r of del) {
            const i = table.findIndex((x) => x.dst === r.dst && x.via === r.via);
            if (i >= 0) table.splice(i, 1);
          }
        }
        const key = (rs: Route[]) => rs.map((r) => `${r.dst} ${r.via}`).sort();
        expect(key(table)).toEqual(key(desired));
        expect(diffRoutes(table, desired)).toEqual({ replace: [], del: [] });
      }),
    );
  });
});
