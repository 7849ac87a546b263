// The eviction rule, table-driven over snapshots: a Deployment never drops below
// replicas - maxUnavailable available pods through evictions; pods that cost nothing may go.
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import { controllerRefFor } from '../../controllers/runtime/claim.js';
import { deploymentFixture, podFixture, rsFixture, T0, type PodOpts } from '../../controllers/runtime/fixtures.js';
import { decideEviction, type EvictionSnapshot } from './decide.js';

const rolling = (maxSurge: number | string, maxUnavailable: number | string) => ({ type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } });

function world(o: { replicas: number; strategy?: ReturnType<typeof rolling> | { type: 'Recreate' }; minReadySeconds?: number; pods: PodOpts[] }) {
  const d = deploymentFixture('web', { replicas: o.replicas, strategy: o.strategy, minReadySeconds: o.minReadySeconds ?? 0 });
  const rs = rsFixture('web-1', { owner: controllerRefFor({ kind: 'Deployment', apiVersion: 'apps/v1', name: 'web', uid: d.metadata!.uid }) });
  const owner = controllerRefFor({ kind: 'ReplicaSet', apiVersion: 'apps/v1', name: 'web-1', uid: rs.metadata!.uid });
  const pods = o.pods.map((p, i) => podFixture(`web-1-${i}`, { owner, nodeName: 'n1', ...p }));
  const snap = (pod: Pod, now = T0 + 60_000): EvictionSnapshot => ({ pod, replicaSet: rs, deployment: d, deploymentPods: pods, now });
  return { d, rs, pods, snap };
}

const ready = { ready: true };
const unready = { ready: false };

describe('decideEviction', () => {
  const cases: { name: string; replicas: number; strategy?: ReturnType<typeof rolling> | { type: 'Recreate' }; pods: PodOpts[]; evict: number; allowed: boolean }[] = [
    { name: '3 replicas, maxUnavailable 1, all available: one may go', replicas: 3, strategy: rolling(1, 1), pods: [ready, ready, ready], evict: 0, allowed: true },
    { name: '3 replicas, maxUnavailable 1, one already terminating: no more', replicas: 3, strategy: rolling(1, 1), pods: [ready, ready, { ready: true, deleting: true }], evict: 0, allowed: false },
    { name: '3 replicas, maxUnavailable 0: none may go until a 4th is available', replicas: 3, strategy: rolling(1, 0), pods: [ready, ready, ready], evict: 1, allowed: false },
    { name: '3 replicas, maxUnavailable 0, a surge pod available: one may go', replicas: 3, strategy: rolling(1, 0), pods: [ready, ready, ready, ready], evict: 1, allowed: true },
    { name: 'default 25% of 1 replica rounds down to 0: the only pod stays', replicas: 1, pods: [ready], evict: 0, allowed: false },
    { name: '25% of 4 replicas is 1', replicas: 4, pods: [ready, ready, ready, ready], evict: 2, allowed: true },
    { name: 'Recreate keeps every replica (no maxUnavailable)', replicas: 2, strategy: { type: 'Recreate' }, pods: [ready, ready], evict: 0, allowed: false },
    { name: 'an unavailable pod costs nothing, even at the floor', replicas: 2, strategy: rolling(1, 0), pods: [ready, ready, unready], evict: 2, allowed: true },
    { name: 'a crash-looping pod goes while the others are below the floor', replicas: 3, strategy: rolling(1, 1), pods: [ready, unready, { waitingReason: 'CrashLoopBackOff' }], evict: 2, allowed: true },
    { name: 'a finished pod may go', replicas: 1, pods: [{ ready: false, phase: 'Failed' }], evict: 0, allowed: true },
    { name: 'a terminating pod may be evicted again', replicas: 1, pods: [{ ready: true, deleting: true }], evict: 0, allowed: true },
    { name: '0 replicas: nothing to keep', replicas: 0, pods: [ready], evict: 0, allowed: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const w = world(c);
      const got = decideEviction(w.snap(w.pods[c.evict]!));
      expect(got.allowed).toBe(c.allowed);
    });
  }

  it('explains a refusal with the deployment, the floor and the count', () => {
    const w = world({ replicas: 3, strategy: rolling(1, 1), pods: [ready, ready, unready] });
    const got = decideEviction(w.snap(w.pods[0]!));
    expect(got).toEqual({
      allowed: false,
      message:
        'Cannot evict pod as it would violate the availability of deployment "default/web": it needs 2 available pods ' +
        '(replicas 3 - maxUnavailable 1) and has 2; retry once a replacement is available, or scale the deployment up',
    });
  });

  it('guards the count with exactly the available pods it was made over', () => {
    const w = world({ replicas: 3, strategy: rolling(1, 1), pods: [ready, ready, ready, unready, { ready: true, deleting: true }] });
    const got = decideEviction(w.snap(w.pods[0]!));
    expect(got.allowed && got.guard.map((p) => p.metadata?.name)).toEqual(['web-1-0', 'web-1-1', 'web-1-2']);
  });

  it('counts minReadySeconds: a pod ready for less is not available yet', () => {
    const w = world({ replicas: 2, strategy: rolling(1, 1), minReadySeconds: 30, pods: [ready, { ready: true, readySince: T0 + 50_000 }] });
    // At T0+60s the second pod has been ready 10 s of 30: only one pod is available.
    expect(decideEviction(w.snap(w.pods[0]!)).allowed).toBe(false);
    // ...and the young pod itself is not available, so it may go.
    expect(decideEviction(w.snap(w.pods[1]!)).allowed).toBe(true);
    expect(decideEviction(w.snap(w.pods[0]!, T0 + 90_000)).allowed).toBe(true);
  });

  it('pods without a ReplicaSet, or whose ReplicaSet has no Deployment, have no budget', () => {
    const bare = podFixture('bare', { ready: true, nodeName: 'n1' });
    expect(decideEviction({ pod: bare, deploymentPods: [], now: T0 })).toMatchObject({ allowed: true, why: 'not controlled by a ReplicaSet' });
    const rs = rsFixture('lonely');
    const pod = podFixture('lonely-x', { ready: true, owner: controllerRefFor({ kind: 'ReplicaSet', apiVersion: 'apps/v1', name: 'lonely', uid: rs.metadata!.uid }) });
    expect(decideEviction({ pod, replicaSet: rs, deploymentPods: [], now: T0 })).toMatchObject({ allowed: true, why: "its ReplicaSet has no Deployment" });
  });
});
