import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { node, pod } from './fixtures.js';
import { buildNodeInfos } from './nodeinfo.js';
import { NodeLoads, nodeInfosFromLoads } from './node-loads.js';
import { schedule } from './schedule.js';

const NODES = ['n1', 'n2', 'n3'].map((n) => node(n));

/** One informer event: pod `i` is now this (or deleted). */
const event = fc.record({
  i: fc.integer({ min: 0, max: 7 }),
  deleted: fc.boolean(),
  nodeName: fc.constantFrom('', 'n1', 'n2', 'n3', 'gone'),
  cpu: fc.constantFrom(undefined, '100m', '1', 'bad'),
  owner: fc.constantFrom(undefined, 'a', 'b'),
  hostPort: fc.constantFrom(undefined, 80, 8080),
  phase: fc.constantFrom('Pending', 'Running', 'Succeeded', 'Failed'),
});

describe('NodeLoads', () => {
  it('after any sequence of adds, updates and deletes gives what buildNodeInfos gives over the pods left', () => {
    fc.assert(fc.property(fc.array(event, { maxLength: 40 }), (events) => {
      const loads = new NodeLoads();
      const current = new Map<string, ReturnType<typeof pod>>();
      for (const e of events) {
        const key = `default/p${e.i}`;
        if (e.deleted) {
          current.delete(key);
          loads.set(key, undefined);
          continue;
        }
        const p = pod(`p${e.i}`, { nodeName: e.nodeName, cpu: e.cpu, owner: e.owner, hostPort: e.hostPort, phase: e.phase });
        current.set(key, p);
        loads.set(key, p);
      }
      const want = buildNodeInfos(NODES, [...current.values()]);
      const got = nodeInfosFromLoads(NODES, loads);
      for (const n of ['n1', 'n2', 'n3']) {
        const [w, g] = [want.get(n)!, got.get(n)!];
        expect(g.requested).toEqual(w.requested);
        expect(g.scoreRequested).toEqual(w.scoreRequested);
        expect([...g.ports].sort((a, b) => a.port - b.port)).toEqual([...w.ports].sort((a, b) => a.port - b.port));
        expect(new Map([...g.owners].sort())).toEqual(new Map([...w.owners].sort()));
      }
    }), { numRuns: 300 });
  });

  it('schedule() places pods the same with the kept loads as with every pod summed', () => {
    const loads = new NodeLoads();
    const bound = [
      pod('b1', { nodeName: 'n1', cpu: '3', owner: 'web' }),
      pod('b2', { nodeName: 'n2', cpu: '1', hostPort: 80 }),
    ];
    for (const p of bound) loads.set(`default/${p.metadata!.name}`, p);
    const pending = [pod('x', { cpu: '2', owner: 'web' }), pod('y', { hostPort: 80 }), pod('z', { cpu: '1' })];
    const summed = schedule({ nodes: NODES, pods: [...bound, ...pending] }, pending);
    const kept = schedule({ nodes: NODES, pods: pending, loads }, pending);
    expect(kept.bindings.map((b) => [b.pod.metadata!.name, b.nodeName])).toEqual(summed.bindings.map((b) => [b.pod.metadata!.name, b.nodeName]));
    expect(kept.bindings.length).toBe(3);
    // The loads are not changed by a batch's own placements.
    expect(loads.get('n3')).toBeUndefined();
  });
});
