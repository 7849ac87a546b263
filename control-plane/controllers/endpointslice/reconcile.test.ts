// Table of cases for the pure EndpointSlice step: conditions as Kubernetes sets them, named
// ports resolved per pod, grouping by port set, 100 per slice, stable placement, the
// placeholder, and no write when nothing changed.
import { describe, expect, it } from 'vitest';
import { Pod, Service } from '../../../proto/gen/skiff/v1/core.js';
import { EndpointSlice } from '../../../proto/gen/skiff/v1/discovery.js';
import { CONTROLLER_NAME, MANAGED_BY_LABEL, reconcileSlices, SERVICE_NAME_LABEL, type SlicePlan } from './reconcile.js';

const SVC_UID = 'svc-uid';

function service(over: { publish?: boolean; targetPort?: number | string; ports?: number; headless?: boolean } = {}): Service {
  const n = over.ports ?? 1;
  return Service.fromPartial({
    metadata: { name: 'web', namespace: 'default', uid: SVC_UID, labels: { tier: 'front' } },
    spec: {
      type: 'ClusterIP',
      clusterIP: over.headless ? 'None' : '10.96.0.10',
      selector: { app: 'web' },
      publishNotReadyAddresses: over.publish ?? false,
      ports: Array.from({ length: n }, (_, i) => ({
        name: n > 1 ? `p${i}` : '',
        protocol: 'TCP',
        port: 80 + i,
        targetPort: typeof over.targetPort === 'string'
          ? { type: 1, intVal: 0, strVal: over.targetPort }
          : { type: 0, intVal: (over.targetPort ?? 8080) + i, strVal: '' },
      })),
    },
  });
}

interface PodOpts { ready?: boolean; terminating?: boolean; ip?: string; phase?: string; namedPort?: number }

function pod(name: string, o: PodOpts = {}): Pod {
  return Pod.fromPartial({
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app: 'web' }, deletionTimestamp: o.terminating ? '2024-01-01T00:00:00Z' : '' },
    spec: {
      nodeName: 'n1',
      containers: [{ name: 'c', ports: o.namedPort ? [{ name: 'http', containerPort: o.namedPort, protocol: 'TCP' }] : [] }],
    },
    status: {
      phase: o.phase ?? 'Running',
      podIP: o.ip ?? `10.88.0.${Number(name.replace(/\D/g, '') || 1)}`,
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  });
}

/** Applies a plan the way the API would (names for creates), giving the next existing set. */
function applyPlan(existing: EndpointSlice[], plan: SlicePlan): EndpointSlice[] {
  const gone = new Set(plan.delete.map((s) => s.metadata?.name));
  const updated = new Map(plan.update.map((s) => [s.metadata?.name, s]));
  const next = existing.filter((s) => !gone.has(s.metadata?.name)).map((s) => updated.get(s.metadata?.name) ?? s);
  plan.create.forEach((s, i) => next.push(EndpointSlice.fromPartial({ ...s, metadata: { ...s.metadata, name: `web-${existing.length + i}x` } })));
  return next;
}

const conditionsOf = (plan: SlicePlan) => plan.create.flatMap((s) => s.endpoints.map((e) => [e.targetRef?.name, e.conditions]));

describe('reconcileSlices', () => {
  it.each([
    ['ready pod', {}, false, { ready: true, serving: true, terminating: false }],
    ['not ready pod', { ready: false }, false, { ready: false, serving: false, terminating: false }],
    ['terminating ready pod', { terminating: true }, false, { ready: false, serving: true, terminating: true }],
    ['terminating not ready pod', { terminating: true, ready: false }, false, { ready: false, serving: false, terminating: true }],
    ['not ready pod, publishNotReadyAddresses', { ready: false }, true, { ready: true, serving: true, terminating: false }],
    ['terminating pod, publishNotReadyAddresses', { terminating: true, ready: false }, true, { ready: true, serving: true, terminating: true }],
  ] as const)('conditions: %s', (_name, opts, publish, want) => {
    const plan = reconcileSlices(service({ publish }), [pod('p1', opts)], []);
    expect(conditionsOf(plan)).toEqual([['p1', want]]);
  });

  it('skips pods without an IP and pods that finished', () => {
    const plan = reconcileSlices(service(), [pod('p1', { ip: '' }), pod('p2', { phase: 'Succeeded' }), pod('p3', { phase: 'Failed' }), pod('p4')], []);
    expect(plan.create.flatMap((s) => s.endpoints.map((e) => e.addresses[0]))).toEqual(['10.88.0.4']);
  });

  it('builds a labelled, owned slice with the resolved ports', () => {
    const plan = reconcileSlices(service(), [pod('p1')], []);
    expect(plan.create).toHaveLength(1);
    const s = plan.create[0]!;
    expect(s.metadata?.generateName).toBe('web-');
    expect(s.metadata?.labels).toEqual({ tier: 'front', [SERVICE_NAME_LABEL]: 'web', [MANAGED_BY_LABEL]: CONTROLLER_NAME });
    expect(s.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: SVC_UID, controller: true, blockOwnerDeletion: true }]);
    expect(s.addressType).toBe('IPv4');
    expect(s.ports).toEqual([{ name: '', protocol: 'TCP', port: 8080, appProtocol: undefined }]);
    expect(s.endpoints[0]).toMatchObject({ addresses: ['10.88.0.1'], nodeName: 'n1', targetRef: { kind: 'Pod', name: 'p1', namespace: 'default', uid: 'uid-p1' } });
  });

  it('resolves a named target port per pod and groups pods by the ports they resolve', () => {
    const plan = reconcileSlices(service({ targetPort: 'http' }), [pod('p1', { namedPort: 8080 }), pod('p2', { namedPort: 9090 }), pod('p3'), pod('p4', { namedPort: 8080 })], []);
    const summary = plan.create.map((s) => [s.ports.map((p) => p.port), s.endpoints.map((e) => e.targetRef?.name)]);
    expect(summary).toEqual([
      [[8080], ['p1', 'p4']],
      [[9090], ['p2']],
      // p3 has no port named http: in no slice of that port (Kubernetes' empty port set).
      [[], ['p3']],
    ]);
  });

  it('puts at most 100 endpoints in a slice', () => {
    const pods = Array.from({ length: 250 }, (_, i) => pod(`p${i + 1}`, { ip: `10.88.${Math.floor(i / 200)}.${(i % 200) + 1}` }));
    const plan = reconcileSlices(service(), pods, []);
    expect(plan.create.map((s) => s.endpoints.length)).toEqual([100, 100, 50]);
  });

  it('writes nothing when nothing changed, and only the slice that changed otherwise', () => {
    const pods = Array.from({ length: 150 }, (_, i) => pod(`p${i + 1}`, { ip: `10.88.1.${i + 1}` }));
    let existing = applyPlan([], reconcileSlices(service(), pods, []));
    expect(reconcileSlices(service(), pods, existing)).toEqual({ create: [], update: [], delete: [] });
    // p120 turns not ready: only the slice holding it is updated.
    const changed = pods.map((p) => (p.metadata?.name === 'p120' ? pod('p120', { ready: false, ip: '10.88.1.120' }) : p));
    const plan = reconcileSlices(service(), changed, existing);
    expect(plan.create).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.update).toHaveLength(1);
    expect(plan.update[0]!.endpoints.find((e) => e.targetRef?.name === 'p120')?.conditions?.ready).toBe(false);
    existing = applyPlan(existing, plan);
    // A new pod fills the slice with room instead of making a new one.
    const grown = reconcileSlices(service(), [...changed, pod('p999', { ip: '10.88.2.1' })], existing);
    expect(grown.create).toEqual([]);
    expect(grown.update).toHaveLength(1);
    expect(grown.update[0]!.endpoints).toHaveLength(51);
  });

  it('keeps one empty placeholder when there are no endpoints, and drops it once there are', () => {
    const empty = reconcileSlices(service(), [], []);
    expect(empty.create).toHaveLength(1);
    expect(empty.create[0]).toMatchObject({ endpoints: [], ports: [] });
    let existing = applyPlan([], empty);
    expect(reconcileSlices(service(), [], existing)).toEqual({ create: [], update: [], delete: [] });
    const plan = reconcileSlices(service(), [pod('p1')], existing);
    expect(plan.create).toHaveLength(1);
    expect(plan.delete.map((s) => s.metadata?.name)).toEqual([existing[0]!.metadata?.name]);
    existing = applyPlan(existing, plan);
    // Every pod gone: the last slice becomes the placeholder.
    const gone = reconcileSlices(service(), [], existing);
    expect(gone.update).toHaveLength(1);
    expect(gone.update[0]).toMatchObject({ endpoints: [], ports: [] });
    expect(gone.delete).toEqual([]);
  });

  it('deletes slices of an earlier service of the same name and moves endpoints when ports change', () => {
    const stale = EndpointSlice.fromPartial({
      metadata: { name: 'web-old', namespace: 'default', ownerReferences: [{ kind: 'Service', name: 'web', uid: 'other', controller: true }] },
      addressType: 'IPv4',
    });
    const plan = reconcileSlices(service(), [pod('p1')], [stale]);
    expect(plan.delete.map((s) => s.metadata?.name)).toEqual(['web-old']);
    const existing = applyPlan([], reconcileSlices(service(), [pod('p1')], []));
    const moved = reconcileSlices(service({ targetPort: 9000 }), [pod('p1')], existing);
    expect(moved.create.map((s) => s.ports[0]?.port)).toEqual([9000]);
    expect(moved.delete).toHaveLength(1);
  });

  it('labels slices of a headless service', () => {
    const plan = reconcileSlices(service({ headless: true }), [pod('p1')], []);
    expect(plan.create[0]!.metadata?.labels['service.kubernetes.io/headless']).toBe('');
  });
});
