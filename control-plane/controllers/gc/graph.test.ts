import { describe, expect, it } from 'vitest';
import type { OwnerReference } from '../../../proto/gen/skiff/v1/meta.js';
import { deploymentFixture, podFixture, rsFixture } from '../runtime/fixtures.js';
import { dependentAction, ownerAction, type OwnerState } from './graph.js';

const ref = (kind: string, name: string, controller = true): OwnerReference => ({
  apiVersion: kind === 'Deployment' || kind === 'ReplicaSet' ? 'apps/v1' : 'v1',
  kind,
  name,
  uid: `uid-${name}`,
  controller,
  blockOwnerDeletion: true,
});

describe('dependentAction', () => {
  const states =
    (absent: string[]) =>
    (r: OwnerReference): OwnerState =>
      absent.includes(r.uid) ? 'absent' : 'present';

  it('an object without owners is never collected', () => {
    expect(dependentAction(deploymentFixture('web'), states(['uid-x']))).toEqual({ type: 'none' });
  });

  it('a pod whose ReplicaSet is gone is deleted', () => {
    const p = podFixture('web-1', { owner: ref('ReplicaSet', 'web-rs') });
    expect(dependentAction(p, states(['uid-web-rs']))).toEqual({ type: 'delete' });
  });

  it('a pod whose ReplicaSet exists is kept', () => {
    const p = podFixture('web-1', { owner: ref('ReplicaSet', 'web-rs') });
    expect(dependentAction(p, states([]))).toEqual({ type: 'none' });
  });

  it('with one of two owners gone, only that reference is dropped', () => {
    const p = podFixture('web-1', { owner: ref('ReplicaSet', 'a') });
    p.metadata!.ownerReferences.push(ref('ReplicaSet', 'b', false));
    expect(dependentAction(p, states(['uid-b']))).toEqual({ type: 'removeOwnerRefs', uids: ['uid-b'] });
  });

  it('an object already being deleted is left to finish', () => {
    const p = podFixture('web-1', { owner: ref('ReplicaSet', 'web-rs'), deleting: true });
    expect(dependentAction(p, states(['uid-web-rs']))).toEqual({ type: 'none' });
  });
});

describe('ownerAction', () => {
  const deleting = (finalizers: string[]) => {
    const d = deploymentFixture('web');
    d.metadata!.deletionTimestamp = '2026-01-01T00:00:00Z';
    d.metadata!.finalizers = finalizers;
    return d;
  };
  const rs1 = rsFixture('web-1', { owner: ref('Deployment', 'web') });
  const rs2 = rsFixture('web-2', { owner: ref('Deployment', 'web') });

  it('an owner not being deleted needs nothing', () => {
    expect(ownerAction(deploymentFixture('web'), [rs1])).toEqual({ type: 'none' });
  });

  it('orphan: dependents lose the reference first, then the finalizer goes', () => {
    expect(ownerAction(deleting(['orphan']), [rs1, rs2])).toEqual({ type: 'orphan', dependents: [rs1, rs2] });
    expect(ownerAction(deleting(['orphan']), [])).toEqual({ type: 'removeFinalizer', finalizer: 'orphan' });
  });

  it('foreground: dependents are deleted, and the owner waits for those already going', () => {
    const going = rsFixture('web-3', { owner: ref('Deployment', 'web') });
    going.metadata!.deletionTimestamp = '2026-01-01T00:00:00Z';
    expect(ownerAction(deleting(['foregroundDeletion']), [rs1, going])).toEqual({
      type: 'deleteDependents',
      dependents: [rs1],
      waiting: 2,
    });
    expect(ownerAction(deleting(['foregroundDeletion']), [going])).toEqual({ type: 'deleteDependents', dependents: [], waiting: 1 });
    expect(ownerAction(deleting(['foregroundDeletion']), [])).toEqual({ type: 'removeFinalizer', finalizer: 'foregroundDeletion' });
  });

  it("other finalizers are not the collector's business", () => {
    expect(ownerAction(deleting(['example.com/keep']), [rs1])).toEqual({ type: 'none' });
  });
});
