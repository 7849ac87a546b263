// Builders for proxy tests and the rule-generation measurement.
import { servicePortKey, type EndpointInfo, type ServiceInfo, type ServiceSnapshot } from '../snapshot.js';

export function svc(namespace: string, name: string, over: Partial<ServiceInfo> = {}): ServiceInfo {
  return {
    namespace, name, type: 'ClusterIP', clusterIP: '10.96.0.10',
    ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    sessionAffinity: 'None', affinityTimeoutSeconds: 10800, ...over,
  };
}

export function ep(address: string, port: number, over: Partial<EndpointInfo> = {}): EndpointInfo {
  return { address, port, ready: true, serving: true, terminating: false, nodeName: 'node-1', ...over };
}

export function snapshot(services: ServiceInfo[], endpoints: Record<string, EndpointInfo[]> = {}): ServiceSnapshot {
  return { services, endpoints: new Map(Object.entries(endpoints)) };
}

/** n services with `perService` ready endpoints each, all on port 80 -> 8080. */
export function bigSnapshot(n: number, perService: number): ServiceSnapshot {
  const services: ServiceInfo[] = [];
  const endpoints = new Map<string, EndpointInfo[]>();
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}`;
    services.push(svc('bench', name, {
      type: 'NodePort', clusterIP: `10.96.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30000 + i }],
    }));
    const eps: EndpointInfo[] = [];
    for (let j = 0; j < perService; j++) {
      const k = i * perService + j;
      eps.push(ep(`10.244.${Math.floor(k / 250)}.${(k % 250) + 1}`, 8080));
    }
    endpoints.set(servicePortKey('bench', name, 'http'), eps);
  }
  return { services, endpoints };
}
