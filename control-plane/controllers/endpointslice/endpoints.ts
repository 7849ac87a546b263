// One pod as an EndpointSlice endpoint, as Kubernetes' endpointslice controller builds it:
// which pods count, their conditions, and the ports their containers resolve for a service.
import type { Pod, Service, ServicePort } from '../../../proto/gen/skiff/v1/core.js';
import type { Endpoint, EndpointPort } from '../../../proto/gen/skiff/v1/discovery.js';
import { isPodReady } from '../replicaset/pods.js';

/** Kubernetes' ShouldPodBeInEndpoints (terminating pods included): has an IP, has not finished. */
export function podIsEndpoint(pod: Pod): boolean {
  const phase = pod.status?.phase ?? '';
  return !!pod.status?.podIP && phase !== 'Succeeded' && phase !== 'Failed';
}

/**
 * serving = Ready (or publishNotReadyAddresses), terminating = deletionTimestamp set,
 * ready = serving and not terminating (or publishNotReadyAddresses), exactly as Kubernetes.
 */
export function podEndpoint(pod: Pod, svc: Service): Endpoint {
  const publish = svc.spec?.publishNotReadyAddresses ?? false;
  const serving = publish || isPodReady(pod);
  const terminating = !!pod.metadata?.deletionTimestamp;
  const m = pod.metadata;
  return {
    addresses: [pod.status?.podIP ?? ''],
    conditions: { ready: publish || (serving && !terminating), serving, terminating },
    hostname: undefined,
    targetRef: { apiVersion: '', kind: 'Pod', namespace: m?.namespace ?? '', name: m?.name ?? '', uid: m?.uid ?? '', resourceVersion: '', fieldPath: '' },
    nodeName: pod.spec?.nodeName || undefined,
  };
}

/** The container port a service port reaches on this pod; undefined when a named port is missing. */
export function resolveTargetPort(pod: Pod, sp: ServicePort): number | undefined {
  const t = sp.targetPort;
  if (!t || t.type === 0) return t?.intVal || sp.port;
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports) if (p.name === t.strVal && (p.protocol || 'TCP') === sp.protocol) return p.containerPort;
  }
  return undefined;
}

/** The endpoint ports of a pod: one per service port it resolves (Kubernetes skips the others). */
export function podPorts(pod: Pod, svc: Service): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = resolveTargetPort(pod, sp);
    if (port === undefined) continue;
    out.push({ name: sp.name, protocol: sp.protocol, port, appProtocol: sp.appProtocol });
  }
  return out;
}

/** A stable key of a port set: endpoints with the same key share slices. */
export function portSetKey(ports: readonly EndpointPort[]): string {
  return JSON.stringify([...ports].map((p) => [p.name ?? '', p.protocol ?? '', p.port ?? 0, p.appProtocol ?? '']).sort());
}
