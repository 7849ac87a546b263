// The EndpointSlice controller's pure step: a Service, the pods it selects and the slices that
// exist for it in, the creates/updates/deletes that make the slices say what the pods are.
// Endpoints are grouped by the ports they resolve (a pod without a named target port is in
// no slice of that port), at most 100 per slice. An endpoint stays in the slice that already
// holds it, new ones fill slices with room before new slices are made, and a slice is written
// only when its content changes. With no endpoints at all one empty placeholder slice remains,
// as Kubernetes keeps one.
import type { Pod, Service } from '../../../proto/gen/skiff/v1/core.js';
import type { Endpoint, EndpointPort, EndpointSlice } from '../../../proto/gen/skiff/v1/discovery.js';
import { canonicalEqual } from '../../storage/canonical.js';
import { podEndpoint, podIsEndpoint, podPorts, portSetKey } from './endpoints.js';

export const MAX_ENDPOINTS_PER_SLICE = 100;
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

/** The service's labels plus the ones that mark the slice as ours and name the service. */
export function sliceLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
  labels[SERVICE_NAME_LABEL] = svc.metadata?.name ?? '';
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
  if (svc.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  return labels;
}

function newSlice(svc: Service, ports: EndpointPort[], endpoints: Endpoint[]): EndpointSlice {
  const m = svc.metadata;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: '', generateName: `${m?.name ?? ''}-`, namespace: m?.namespace ?? '', uid: '', resourceVersion: '', generation: 0,
      creationTimestamp: '', deletionTimestamp: '', labels: sliceLabels(svc), annotations: {}, finalizers: [],
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: m?.name ?? '', uid: m?.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

const podKeyOf = (e: Endpoint): string => e.targetRef?.uid || e.addresses[0] || '';

function ownedBy(slice: EndpointSlice, svc: Service): boolean {
  return (slice.metadata?.ownerReferences ?? []).some((r) => r.controller && r.uid === svc.metadata?.uid);
}

interface Group {
  ports: EndpointPort[];
  /** Desired endpoints by pod key, in pod name order. */
  endpoints: Map<string, Endpoint>;
}

function desiredGroups(svc: Service, pods: readonly Pod[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  const sorted = [...pods].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const pod of sorted) {
    if (!podIsEndpoint(pod)) continue;
    const ports = podPorts(pod, svc);
    const key = portSetKey(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, endpoints: new Map() }));
    const ep = podEndpoint(pod, svc);
    g.endpoints.set(podKeyOf(ep), ep);
  }
  return groups;
}

/** The plan for one service; pods are the ones its selector matches (any namespace filter done). */
export function reconcileSlices(svc: Service, pods: readonly Pod[], existing: readonly EndpointSlice[]): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const labels = sliceLabels(svc);
  const mine: EndpointSlice[] = [];
  for (const s of existing) (ownedBy(s, svc) && s.addressType === 'IPv4' ? mine : plan.delete).push(s);
  mine.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const groups = desiredGroups(svc, pods);
  const byKey = new Map<string, EndpointSlice[]>();
  for (const s of mine) {
    const k = portSetKey(s.ports);
    byKey.set(k, [...(byKey.get(k) ?? []), s]);
  }
  const kept: EndpointSlice[] = [];
  for (const [key, slices] of byKey) {
    const g = groups.get(key);
    for (const s of slices) {
      const endpoints = g ? s.endpoints.map((e) => g.endpoints.get(podKeyOf(e))).filter((e): e is Endpoint => !!e) : [];
      for (const e of endpoints) g?.endpoints.delete(podKeyOf(e));
      kept.push({ ...s, endpoints: endpoints.slice(0, MAX_ENDPOINTS_PER_SLICE), ports: s.ports });
      // An over-full slice (written by an older version or by hand) gives its extra back.
      for (const e of endpoints.slice(MAX_ENDPOINTS_PER_SLICE)) g?.endpoints.set(podKeyOf(e), e);
    }
  }
  const created: EndpointSlice[] = [];
  for (const [key, g] of groups) {
    const rest = [...g.endpoints.values()];
    for (const s of kept) {
      if (!rest.length) break;
      if (portSetKey(s.ports) !== key) continue;
      s.endpoints.push(...rest.splice(0, MAX_ENDPOINTS_PER_SLICE - s.endpoints.length));
    }
    while (rest.length) created.push(newSlice(svc, g.ports, rest.splice(0, MAX_ENDPOINTS_PER_SLICE)));
  }
  const nonEmpty = kept.filter((s) => s.endpoints.length > 0);
  const empty = kept.filter((s) => s.endpoints.length === 0);
  // Kubernetes keeps one placeholder (no endpoints, no ports) while the service has no endpoints.
  let placeholder: EndpointSlice | undefined;
  if (nonEmpty.length === 0 && created.length === 0) {
    placeholder = empty.find((s) => s.ports.length === 0) ?? empty[0];
    if (placeholder) placeholder.ports = [];
    else created.push(newSlice(svc, [], []));
  }
  for (const s of empty) if (s !== placeholder) plan.delete.push(existing.find((e) => e.metadata?.name === s.metadata?.name)!);
  for (const s of [...nonEmpty, ...(placeholder ? [placeholder] : [])]) {
    const before = existing.find((e) => e.metadata?.name === s.metadata?.name)!;
    const next: EndpointSlice = { ...s, metadata: { ...before.metadata!, labels } };
    if (!canonicalEqual(next.endpoints, before.endpoints) || !canonicalEqual(next.ports, before.ports) || !canonicalEqual(labels, before.metadata?.labels ?? {})) {
      plan.update.push(next);
    }
  }
  plan.create.push(...created);
  return plan;
}
