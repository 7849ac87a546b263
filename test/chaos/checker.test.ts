// The checker catches what it claims to: each invariant fails on a history made to break it.
import { describe, expect, it } from 'vitest';
import { check, newStats } from './checker.js';
import type { History, PodEvent } from './history.js';

const base = (): History => ({
  seed: 1, pods: [], deployments: [], nodes: [], terms: [], controllerWrites: [], api: [], faults: [], quietAt: 100, convergedAt: 200, watchRestarts: 0,
  final: { journal: ['ack-0'], deployments: { 'roll-a': { rev: 2, replicas: 4, conflict: 0 }, scaled: { rev: 0, replicas: 3, conflict: 0 } }, names: [] },
});
const pod = (p: Partial<PodEvent>): PodEvent => ({
  t: 0, revision: 1, type: 'MODIFIED', uid: 'u', name: 'p', app: 'roll-a', nodeName: 'n1', ready: true, terminating: false, restarts: 0, ...p,
});

describe('chaos checker', () => {
  it('passes a clean history', () => {
    const h = base();
    h.api.push({ t: 1, op: 'create-journal', name: 'ack-0', outcome: 'ok' }, { t: 2, op: 'rollout', name: 'roll-a', value: 2, outcome: 'ok' });
    expect(check(h)).toEqual([]);
  });

  it('flags a lost acknowledged create and a lost acknowledged update', () => {
    const h = base();
    h.api.push({ t: 1, op: 'create-journal', name: 'ack-1', outcome: 'ok' });
    h.api.push({ t: 2, op: 'rollout', name: 'roll-a', value: 3, outcome: 'ok' });
    const v = check(h);
    expect(v.some((x) => x.includes('ConfigMap ack-1'))).toBe(true);
    expect(v.some((x) => x.includes('roll-a ends with rollout value 2'))).toBe(true);
  });

  it('accepts a later unacknowledged write as the end value, not an earlier one', () => {
    const h = base();
    h.api.push({ t: 1, op: 'rollout', name: 'roll-a', value: 1, outcome: 'ok' }, { t: 2, op: 'rollout', name: 'roll-a', value: 2, outcome: 'unknown' });
    expect(check(h)).toEqual([]);
    h.final!.deployments['roll-a']!.rev = 0;
    expect(check(h)).not.toEqual([]);
  });

  it('flags two acknowledged updates from one resourceVersion', () => {
    const h = base();
    h.api.push({ t: 1, op: 'conflict', name: 'roll-a', value: 1, basedOn: '9', outcome: 'ok' }, { t: 1, op: 'conflict', name: 'roll-a', value: 2, basedOn: '9', outcome: 'ok' });
    expect(check(h).some((x) => x.startsWith('lost update'))).toBe(true);
  });

  it('flags an accepted bad input and the partial state of a refused one', () => {
    const h = base();
    h.api.push({ t: 1, op: 'bad-input', name: 'bad-0', outcome: 'ok' }, { t: 2, op: 'bad-input', name: 'bad-1', outcome: 'error', code: 'Invalid' });
    h.final!.names.push('ConfigMap/bad-1');
    const v = check(h);
    expect(v).toContain('bad input accepted: bad-0 (t=1)');
    expect(v.some((x) => x.includes('ConfigMap/bad-1 exists'))).toBe(true);
  });

  it('flags a pod bound to two nodes', () => {
    const h = base();
    h.pods.push(pod({ nodeName: 'n1' }), pod({ nodeName: 'n2', revision: 2 }));
    expect(check(h).some((x) => x.includes('bound to n1 then n2'))).toBe(true);
  });

  it('flags surge and unavailability outside fault windows only', () => {
    const h = base();
    // roll-a: 4 replicas, maxSurge 1, maxUnavailable 0. Armed once 4 ready, then 6 pods, then only 3 ready.
    for (let i = 0; i < 4; i++) h.pods.push(pod({ t: 10, uid: `u${i}`, name: `p${i}` }));
    h.pods.push(pod({ t: 20, uid: 'u4' }), pod({ t: 21, uid: 'u5' }));
    for (const uid of ['u0', 'u1', 'u2']) h.pods.push(pod({ t: 22, uid, ready: false }));
    const v = check(h);
    expect(v.some((x) => x.startsWith('surge: roll-a has 6 pods'))).toBe(true);
    expect(v.some((x) => x.startsWith('availability: roll-a'))).toBe(true);
    h.faults.push({ kind: 'kill-leading-cp', start: 15, end: 30, detail: 'cp-0' });
    expect(check(h)).toEqual([]);
  });

  it('flags pods of a node dead for 60 s not replaced, and a run that never converged', () => {
    const h = base();
    h.deployments.push({ t: 0, revision: 1, type: 'ADDED', name: 'roll-a', replicas: 4, maxSurge: 1, maxUnavailable: 0 });
    for (let i = 0; i < 4; i++) h.pods.push(pod({ t: 10, uid: `u${i}`, nodeName: i === 0 ? 'dead' : 'n1' }));
    h.faults.push({ kind: 'kill-agent', start: 100, end: 70_000, detail: 'dead', node: 'dead' });
    h.convergedAt = undefined;
    const v = check(h);
    expect(v.some((x) => x.includes('still active on dead'))).toBe(true);
    expect(v.some((x) => x.includes('runs 3/4 pods off dead'))).toBe(true);
    expect(v.some((x) => x.startsWith('no convergence'))).toBe(true);
    const stats = newStats();
    check(h, stats);
    expect(stats.deadNodeChecks).toBe(1);
  });

  it('flags a lease left unrenewed past the grace period unless its own agent was down', () => {
    const h = base();
    const lease = (node: string, t: number): History['nodes'][number] => ({ t, revision: t, node, what: 'lease', value: String(t) });
    h.nodes.push(lease('n1', 1000), lease('n2', 1000), lease('n1', 2000), lease('n2', 9000), lease('n1', 9500));
    h.faults.push({ kind: 'partition-agent', start: 2500, end: 8000, detail: 'n1' });
    const v = check(h);
    expect(v.filter((x) => x.startsWith('node liveness'))).toEqual([expect.stringContaining("n2's lease went 8000 ms unrenewed")]);
  });

  it('checks lease gaps through a paused or cut-off control plane; only a paused etcd member stays exempt; overlapping faults compose', () => {
    const lease = (node: string, t: number): History['nodes'][number] => ({ t, revision: t, node, what: 'lease', value: String(t) });
    for (const kind of ['pause-leading-cp', 'partition-cp-etcd'] as const) {
      const h = base();
      h.nodes.push(lease('n1', 1000), lease('n1', 9000));
      h.faults.push({ kind, start: 2000, end: 7000, detail: 'cp-0' });
      expect(check(h).filter((x) => x.startsWith('node liveness')), kind).toEqual([expect.stringContaining("n1's lease went 8000 ms unrenewed")]);
    }
    const h = base();
    h.nodes.push(lease('n1', 1000), lease('n1', 9000), lease('n2', 1000), lease('n2', 9000));
    // At once: etcd member paused (exempt for every node) and n2 partitioned (exempt for n2).
    h.faults.push({ kind: 'pause-etcd-member', start: 2000, end: 7000, detail: 'etcd member e1' }, { kind: 'partition-agent', start: 3000, end: 6000, detail: 'n2' });
    const stats = newStats();
    expect(check(h, stats).filter((x) => x.startsWith('node liveness'))).toEqual([]);
    expect(stats.exemptLeaseGapMaxMs).toBe(8000);
  });

  it('excuses a full disk\'s time bounds only when another fault on the control path or the node overlaps them', () => {
    const h = base();
    h.nodes.push({ t: 1500, revision: 1, node: 'n1', what: 'disk', value: 'True/true' });
    h.faults.push({ kind: 'fill-disk', start: 1000, end: 4000, detail: 'n1', node: 'n1' });
    expect(check(h).filter((x) => x.startsWith('full disk'))).toEqual([expect.stringContaining('n1 still under disk pressure 10 s after')]);
    // A fault elsewhere changes nothing; the leading control plane paused right after the fill excuses the late clearing.
    h.faults.push({ kind: 'kill-container', start: 5000, end: 7000, detail: 'n2 pod x' });
    expect(check(h).filter((x) => x.startsWith('full disk'))).toHaveLength(1);
    h.faults.push({ kind: 'pause-leading-cp', start: 4500, end: 9000, detail: 'cp-0' });
    const stats = newStats();
    expect(check(h, stats).filter((x) => x.startsWith('full disk'))).toEqual([]);
    expect([stats.diskFills, stats.diskFillsOverlapped]).toEqual([1, 1]);
  });

  it('measures apart a lease gap where an etcd fault and a control-plane fault overlap, and only there', () => {
    const lease = (node: string, t: number): History['nodes'][number] => ({ t, revision: t, node, what: 'lease', value: String(t) });
    const h = base();
    h.nodes.push(lease('n1', 1000), lease('n1', 8000), lease('n1', 13000), lease('n1', 18000), lease('n1', 20000), lease('n1', 27000));
    h.faults.push(
      { kind: 'pause-leading-cp', start: 1500, end: 5500, detail: 'cp-0' }, { kind: 'kill-etcd-leader', start: 4000, end: 7000, detail: 'etcd member e0' },
      // Not overlapping each other: each alone must not cost the lease.
      { kind: 'partition-cp-etcd', start: 20500, end: 22000, detail: 'cp-0' }, { kind: 'kill-etcd-leader', start: 25000, end: 26000, detail: 'etcd member e1' },
    );
    const stats = newStats();
    expect(check(h, stats).filter((x) => x.startsWith('node liveness'))).toEqual([expect.stringContaining('went 7000 ms unrenewed (t=20000..27000)')]);
    expect(stats.compoundLeaseGapMaxMs).toBe(7000);
  });

  it('does not owe a restart for a pod deleted before its container was killed, nor a fresh taint event for back-to-back fills', () => {
    const h = base();
    h.pods.push(pod({ uid: 'k', t: 100, ready: true }), pod({ uid: 'k', t: 200, type: 'DELETED' }));
    h.faults.push({ kind: 'kill-container', start: 300, end: 2300, detail: 'n1 pod p', uid: 'k' });
    h.pods.push(pod({ uid: 'm', name: 'm', t: 100, ready: true }));
    h.faults.push({ kind: 'kill-container', start: 400, end: 2400, detail: 'n1 pod m', uid: 'm' });
    expect(check(h).filter((x) => x.startsWith('container kill'))).toEqual([expect.stringContaining('pod m (m) did not run again')]);

    const d = base();
    d.nodes.push({ t: 1500, revision: 1, node: 'n1', what: 'disk', value: 'True/true' }, { t: 12_000, revision: 2, node: 'n1', what: 'disk', value: 'False/false' });
    d.faults.push({ kind: 'fill-disk', start: 1000, end: 5000, detail: 'n1', node: 'n1' }, { kind: 'fill-disk', start: 5500, end: 9000, detail: 'n1', node: 'n1' });
    // The second fill was tainted from its start (no new event during it), and both cleared in time.
    expect(check(d).filter((x) => x.startsWith('full disk'))).toEqual([]);
    d.nodes.pop();
    // Never cleared: the first fill's clearing is excused by the second (same node), the second's is not.
    expect(check(d).filter((x) => x.startsWith('full disk'))).toEqual([expect.stringContaining('still under disk pressure 10 s after its disk was freed (t=9000)')]);
  });

  it('flags a controller write by a process that did not hold the election key at its revision', () => {
    const h = base();
    h.terms.push({ revision: 10, type: 'put', identity: 'cp-0', createRevision: 10 }, { revision: 50, type: 'delete' }, { revision: 52, type: 'put', identity: 'cp-1', createRevision: 52 });
    h.controllerWrites.push({ t: 1, revision: 20, identity: 'cp-0', reason: 'ScalingReplicaSet' }, { t: 2, revision: 60, identity: 'cp-1', reason: 'Scheduled' });
    expect(check(h)).toEqual([]);
    h.controllerWrites.push({ t: 3, revision: 61, identity: 'cp-0', reason: 'Scheduled' }, { t: 4, revision: 51, identity: 'cp-1', reason: 'Scheduled' });
    const v = check(h).filter((x) => x.startsWith('two leaders'));
    expect(v).toEqual([expect.stringContaining('cp-0 wrote (event Scheduled, rev 61'), expect.stringContaining('cp-1 wrote (event Scheduled, rev 51, t=4) while nobody')]);
  });
});
