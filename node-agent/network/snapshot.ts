// What the node proxy and the cluster DNS server read: a plain snapshot of Services and their
// endpoints, named after the Kubernetes fields they come from (core/v1 Service, discovery/v1
// EndpointSlice). Both consumers are pure functions of it; the agent maps the API objects onto
// it (one entry per Service, endpoints flattened from every slice of the service) and hands
// the whole snapshot over on each change.

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';
export type Protocol = 'TCP' | 'UDP';

export interface ServicePortInfo {
  /** ServicePort.name ("" for the single unnamed port). */
  name: string;
  protocol: Protocol;
  port: number;
  /** Only acted on for types NodePort and LoadBalancer. */
  nodePort?: number;
}

export interface ServiceInfo {
  namespace: string;
  name: string;
  type: ServiceType;
  /** spec.clusterIP; "None" (or "") for a headless service, which gets DNS records but no rules. */
  clusterIP: string;
  ports: ServicePortInfo[];
  sessionAffinity: 'None' | 'ClientIP';
  /** sessionAffinityConfig.clientIP.timeoutSeconds (Kubernetes default 10800). */
  affinityTimeoutSeconds: number;
}

/** One address of an EndpointSlice endpoint, with the port resolved for one service port. */
export interface EndpointInfo {
  address: string;
  /** The EndpointSlice port number for this service port (the resolved targetPort). */
  port: number;
  /** conditions.ready: serving and not terminating (or publishNotReadyAddresses). */
  ready: boolean;
  /** conditions.serving: the pod is Ready, terminating or not. */
  serving: boolean;
  /** conditions.terminating: the pod has a deletionTimestamp. */
  terminating: boolean;
  nodeName: string;
  /** endpoint.hostname (headless DNS names `<hostname>.<svc>.<ns>.svc.<domain>`), optional. */
  hostname?: string;
}

export interface ServiceSnapshot {
  services: readonly ServiceInfo[];
  /**
   * Endpoints per service port, keyed by servicePortKey(namespace, name, portName). A service
   * without ports (headless only) lists its endpoints under portName "" with port 0.
   */
  endpoints: ReadonlyMap<string, readonly EndpointInfo[]>;
}

export function servicePortKey(namespace: string, name: string, portName: string): string {
  return `${namespace}/${name}:${portName}`;
}

export function isHeadless(svc: ServiceInfo): boolean {
  return svc.clusterIP === 'None' || svc.clusterIP === '';
}
