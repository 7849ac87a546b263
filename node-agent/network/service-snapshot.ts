// Services and EndpointSlices from the API, as the node proxy and the cluster DNS read them:
// one ServiceInfo per Service, and per service port the endpoints of every slice labelled with
// the service's name, with the slice port of the same name and protocol. An endpoint with no
// conditions set counts as ready and serving (discovery/v1: nil means unknown, read as true).
import type { EndpointSlice } from '../../proto/gen/skiff/v1/discovery.js';
import type { Service } from '../../proto/gen/skiff/v1/core.js';
import { servicePortKey, type EndpointInfo, type Protocol, type ServiceInfo, type ServiceSnapshot } from './snapshot.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const DEFAULT_AFFINITY_SECONDS = 10_800;

export function serviceInfo(svc: Service): ServiceInfo | undefined {
  const m = svc.metadata;
  const s = svc.spec;
  if (!m || !s) return undefined;
  return {
    namespace: m.namespace,
    name: m.name,
    type: s.type === 'NodePort' || s.type === 'LoadBalancer' ? s.type : 'ClusterIP',
    clusterIP: s.clusterIP,
    ports: s.ports.map((p) => ({ name: p.name, protocol: protocolOf(p.protocol), port: p.port, nodePort: p.nodePort || undefined })),
    sessionAffinity: s.sessionAffinity === 'ClientIP' ? 'ClientIP' : 'None',
    affinityTimeoutSeconds: s.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS,
  };
}

function protocolOf(p: string | undefined): Protocol {
  return p === 'UDP' ? 'UDP' : 'TCP';
}

/** The snapshot of every service and its endpoints; slices of services not listed are ignored. */
export function serviceSnapshot(services: Iterable<Service>, slices: Iterable<EndpointSlice>): ServiceSnapshot {
  const infos: ServiceInfo[] = [];
  const byName = new Map<string, ServiceInfo>();
  for (const svc of services) {
    const info = serviceInfo(svc);
    if (!info) continue;
    infos.push(info);
    byName.set(`${info.namespace}/${info.name}`, info);
  }
  const endpoints = new Map<string, EndpointInfo[]>();
  for (const slice of slices) {
    const svcName = slice.metadata?.labels[SERVICE_NAME_LABEL];
    const info = svcName === undefined ? undefined : byName.get(`${slice.metadata?.namespace}/${svcName}`);
    if (!info || slice.addressType !== 'IPv4') continue;
    const wanted = info.ports.length ? info.ports : [{ name: '', protocol: 'TCP' as const, port: 0 }];
    for (const sp of wanted) {
      const port = slice.ports.find((p) => (p.name ?? '') === sp.name && protocolOf(p.protocol) === sp.protocol);
      if (info.ports.length && !port) continue;
      const key = servicePortKey(info.namespace, info.name, sp.name);
      const list = endpoints.get(key) ?? [];
      for (const ep of slice.endpoints) {
        const address = ep.addresses[0];
        if (!address) continue;
        const c = ep.conditions;
        list.push({
          address,
          port: port?.port ?? 0,
          ready: c?.ready ?? true,
          serving: c?.serving ?? c?.ready ?? true,
          terminating: c?.terminating ?? false,
          nodeName: ep.nodeName ?? '',
          hostname: ep.hostname,
        });
      }
      endpoints.set(key, list);
    }
  }
  for (const list of endpoints.values()) list.sort((a, b) => (a.address === b.address ? a.port - b.port : a.address < b.address ? -1 : 1));
  return { services: infos, endpoints };
}
