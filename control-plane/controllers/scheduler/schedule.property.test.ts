// Properties of the pure scheduler over random clusters: whatever the input, the plan it makes
// is safe (no overcommit, only eligible nodes, no host-port clash) and spreads one owner evenly.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '../../../proto/gen/skiff/v1/core.js';
import { node, pod } from './fixtures.js';
import { nodeReady } from './filters.js';
import { podHostPorts, portsConflict } from './nodeinfo.js';
import { nodeAllocatable, podRequests } from './resources.js';
import { schedule } from './schedule.js';

const nodeArb = fc
  .record({
    cpu: fc.integer({ min: 0, max: 4000 }),
    memMi: fc.integer({ min: 0, max: 4096 }),
    pods: fc.integer({ min: 0, max: 8 }),
    ready: fc.boolean(),
    unschedulable: fc.boolean(),
    zone: fc.constantFrom('a', 'b'),
  })
  .map((o) => ({ ...o, ready: o.ready || o.unschedulable === false }));

const podArb = fc.record({
  cpu: fc.option(fc.integer({ min: 1, max: 2000 }), { nil: undefined }),
  memMi: fc.option(fc.integer({ min: 1, max: 2048 }), { nil: undefined }),
  owner: fc.constantFrom('', 'rs1', 'rs2'),
  hostPort: fc.option(fc.constantFrom(80, 443), { nil: undefined }),
  zone: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
});

type NodeSpec = typeof nodeArb extends fc.Arbitrary<infer T> ? T : never;
type PodSpec = typeof podArb extends fc.Arbitrary<infer T> ? T : never;

function buildNodes(specs: NodeSpec[]): Node[] {
  return specs.map((s, i) =>
    node(`n${i}`, {
      cpu: `${s.cpu}m`,
      memory: `${s.memMi}Mi`,
      pods: String(s.pods),
      ready: s.ready,
      unschedulable: s.unschedulable,
      labels: { zone: s.zone },
    }),
  );
}

function buildPods(specs: PodSpec[], prefix: string, nodeOf?: (i: number) => string): Pod[] {
  return specs.map((s, i) =>
    pod(`${prefix}${i}`, {
      cpu: s.cpu ? `${s.cpu}m` : undefined,
      memory: s.memMi ? `${s.memMi}Mi` : undefined,
      owner: s.owner || undefined,
      hostPort: s.hostPort,
      nodeSelector: s.zone ? { zone: s.zone } : {},
      nodeName: nodeOf?.(i),
      phase: nodeOf ? 'Running' : 'Pending',
    }),
  );
}

describe('schedule properties', () => {
  it('never overcommits, never picks an ineligible node, never clashes host ports', () => {
    fc.assert(
      fc.property(
        fc.array(nodeArb, { minLength: 1, maxLength: 6 }),
        fc.array(podArb, { maxLength: 12 }),
        fc.array(podArb, { maxLength: 25 }),
        fc.nat(),
        (nodeSpecs, boundSpecs, pendingSpecs, seed) => {
          const nodes = buildNodes(nodeSpecs);
          // Bound pods are placed by hand (they may even overcommit: the scheduler must not add to that).
          const bound = buildPods(boundSpecs, 'b', (i) => `n${(i + seed) % nodes.length}`);
          const pending = buildPods(pendingSpecs, 'p');
          const { bindings, failures } = schedule({ nodes, pods: [...bound, ...pending] }, pending);
          expect(bindings.length + failures.length).toBe(pending.length);

          for (const n of nodes) {
            const name = n.metadata!.name;
            const placed = bindings.filter((b) => b.nodeName === name).map((b) => b.pod);
            if (placed.length === 0) continue;
            expect(nodeReady(n)).toBe(true);
            expect(n.spec!.unschedulable).toBe(false);
            for (const p of placed) {
              for (const [k, v] of Object.entries(p.spec!.nodeSelector)) expect(n.metadata!.labels[k]).toBe(v);
            }
            const already = bound.filter((p) => p.spec!.nodeName === name);
            const alloc = nodeAllocatable(n.status!.allocatable);
            const sum = (ps: Pod[], f: (r: ReturnType<typeof podRequests>) => number): number =>
              ps.reduce((acc, p) => acc + f(podRequests(p)), 0);
            for (const f of [(r: ReturnType<typeof podRequests>) => r.cpuMillis, (r: ReturnType<typeof podRequests>) => r.memoryBytes, (r: ReturnType<typeof podRequests>) => r.pods]) {
              const added = sum(placed, f);
              if (added > 0) expect(sum(already, f) + added).toBeLessThanOrEqual(f(alloc));
            }
            const ports = [...already, ...placed].flatMap((p) => podHostPorts(p).map((hp) => ({ hp, p })));
            for (let i = 0; i < ports.length; i++) {
              for (let j = i + 1; j < ports.length; j++) {
                const a = ports[i]!;
                const b = ports[j]!;
                // Two pods bound by hand may clash; a clash involving a newly placed pod may not.
                if (placed.includes(a.p) || placed.includes(b.p)) expect(portsConflict(a.hp, b.hp)).toBe(false);
              }
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('spreads one owner evenly over identical empty nodes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 40 }), (nodeCount, podCount) => {
        const nodes = Array.from({ length: nodeCount }, (_, i) => node(`n${i}`, { pods: '110' }));
        const pending = Array.from({ length: podCount }, (_, i) => pod(`p${i}`, { owner: 'rs1', cpu: '10m' }));
        const { bindings, failures } = schedule({ nodes, pods: pending }, pending);
        expect(failures).toEqual([]);
        const counts = nodes.map((n) => bindings.filter((b) => b.nodeName === n.metadata!.name).length);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });

  it('is deterministic: the same input gives the same plan', () => {
    fc.assert(
      fc.property(fc.array(nodeArb, { minLength: 1, maxLength: 5 }), fc.array(podArb, { maxLength: 15 }), (ns, ps) => {
        const nodes = buildNodes(ns);
        const pending = buildPods(ps, 'p');
        const plan = (input: Pod[]): string[] =>
          schedule({ nodes, pods: input }, input).bindings.map((b) => `${b.pod.metadata!.name}@${b.nodeName}`);
        expect(plan([...pending].reverse())).toEqual(plan(pending));
      }),
      { numRuns: 100 },
    );
  });
});
