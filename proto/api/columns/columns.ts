// The columns `skiff get` prints for each kind, as kubectl prints them (with `-o wide` extras
// and a leading NAMESPACE column for -A).
import type { AnyObject, Kind, KindInfo } from '../kinds.js';
import type { Deployment, ReplicaSet } from '../../gen/skiff/v1/apps.js';
import type { HorizontalPodAutoscaler } from '../../gen/skiff/v1/autoscaling.js';
import type { ConfigMap, Secret } from '../../gen/skiff/v1/config.js';
import type { Lease } from '../../gen/skiff/v1/coordination.js';
import type { Event, Namespace, Node, Pod, PodTemplateSpec, Service, ServicePort } from '../../gen/skiff/v1/core.js';
import type { Endpoint, EndpointPort, EndpointSlice } from '../../gen/skiff/v1/discovery.js';
import type { LabelSelector } from '../../gen/skiff/v1/meta.js';
import type { NodeMetrics, PodMetrics } from '../../gen/skiff/v1/metrics.js';
import { age } from './age.js';
import { podReady, podRestarts, podStatus } from './pod-status.js';
import type { Row, Table } from './row.js';
import { persistentVolumeClaims, persistentVolumes, storageClasses } from './storage.js';
import { clusterRoleBindings, clusterRoles, roleBindings, roles } from './rbac.js';
import { certificateSigningRequests } from './certificates.js';
import { formatCpu, formatMemory, podUsage, quantityValue } from './top.js';

export type { Row, Table } from './row.js';

export interface TableOptions {
  wide: boolean;
  /** Adds the NAMESPACE column (get -A). */
  withNamespace: boolean;
  now: number;
}

interface Columns<T> {
  headers: string[];
  wide: string[];
  row(o: T, now: number): Row;
  wideRow(o: T, now: number): Row;
}

const none = (s: string): string => s || '<none>';

export function selectorText(sel: LabelSelector | undefined): string {
  if (!sel) return '<none>';
  const parts = Object.entries(sel.matchLabels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`);
  for (const r of sel.matchExpressions) {
    if (r.operator === 'Exists') parts.push(r.key);
    else if (r.operator === 'DoesNotExist') parts.push(`!${r.key}`);
    else parts.push(`${r.key} ${r.operator === 'In' ? 'in' : 'notin'} (${r.values.join(',')})`);
  }
  return none(parts.join(','));
}

function templateColumns(t: PodTemplateSpec | undefined): Row {
  const cs = t?.spec?.containers ?? [];
  return [none(cs.map((c) => c.name).join(',')), none(cs.map((c) => c.image).join(','))];
}

const pods: Columns<Pod> = {
  headers: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
  wide: ['IP', 'NODE'],
  row: (p, now) => [p.metadata?.name ?? '', podReady(p), podStatus(p), podRestarts(p, now), age(p.metadata?.creationTimestamp, now)],
  wideRow: (p) => [none(p.status?.podIP ?? ''), none(p.spec?.nodeName ?? '')],
};

const deployments: Columns<Deployment> = {
  headers: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
  wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
  row: (d, now) => [
    d.metadata?.name ?? '',
    `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
    String(d.status?.updatedReplicas ?? 0),
    String(d.status?.availableReplicas ?? 0),
    age(d.metadata?.creationTimestamp, now),
  ],
  wideRow: (d) => [...templateColumns(d.spec?.template), selectorText(d.spec?.selector)],
};

const replicaSets: Columns<ReplicaSet> = {
  headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'],
  wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
  row: (r, now) => [
    r.metadata?.name ?? '',
    String(r.spec?.replicas ?? 1),
    String(r.status?.replicas ?? 0),
    String(r.status?.readyReplicas ?? 0),
    age(r.metadata?.creationTimestamp, now),
  ],
  wideRow: (r) => [...templateColumns(r.spec?.template), selectorText(r.spec?.selector)],
};

export function nodeStatus(n: Node): string {
  const ready = n.status?.conditions.find((c) => c.type === 'Ready');
  let s = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
  if (n.spec?.unschedulable) s += ',SchedulingDisabled';
  return s;
}

export function nodeRoles(n: Node): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(n.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role') roles.add(v);
  }
  return none([...roles].filter(Boolean).sort().join(','));
}

const nodes: Columns<Node> = {
  headers: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
  wide: ['INTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
  row: (n, now) => [n.metadata?.name ?? '', nodeStatus(n), nodeRoles(n), age(n.metadata?.creationTimestamp, now), none(n.status?.nodeInfo?.kubeletVersion ?? '')],
  wideRow: (n) => [
    none(n.status?.addresses.find((a) => a.type === 'InternalIP')?.address ?? ''),
    none(n.status?.nodeInfo?.osImage ?? ''),
    none(n.status?.nodeInfo?.kernelVersion ?? ''),
    none(n.status?.nodeInfo?.containerRuntimeVersion ?? ''),
  ],
};

const namespaces: Columns<Namespace> = {
  headers: ['NAME', 'STATUS', 'AGE'],
  wide: [],
  row: (n, now) => [n.metadata?.name ?? '', n.status?.phase || 'Active', age(n.metadata?.creationTimestamp, now)],
  wideRow: () => [],
};

export function eventTime(e: Event): string {
  return e.lastTimestamp || e.firstTimestamp || e.metadata?.creationTimestamp || '';
}

const events: Columns<Event> = {
  headers: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
  wide: ['SOURCE', 'FIRST SEEN', 'COUNT', 'NAME'],
  row: (e, now) => [
    age(eventTime(e), now),
    e.type,
    e.reason,
    `${(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}`,
    e.message.replace(/\s*\n\s*/g, ' '),
  ],
  wideRow: (e, now) => [
    none([e.source?.component ?? e.reportingComponent, e.source?.host].filter(Boolean).join(', ')),
    age(e.firstTimestamp || e.metadata?.creationTimestamp, now),
    String(e.count || 1),
    e.metadata?.name ?? '',
  ],
};

const leases: Columns<Lease> = {
  headers: ['NAME', 'HOLDER', 'AGE'],
  wide: [],
  row: (l, now) => [l.metadata?.name ?? '', none(l.spec?.holderIdentity ?? ''), age(l.metadata?.creationTimestamp, now)],
  wideRow: () => [],
};

/** kubectl's PORT(S) cell: `80/TCP`, `80:30080/TCP` for a node port, comma-separated. */
/** kubectl's EXTERNAL-IP: a LoadBalancer's ingress addresses, <pending> until it has some. */
export function externalIPText(s: Service): string {
  if (s.spec?.type !== 'LoadBalancer') return '<none>';
  const ips = (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname).filter(Boolean);
  return ips.length ? ips.join(',') : '<pending>';
}

export function servicePortsText(ports: readonly ServicePort[]): string {
  return none(ports.map((p) => (p.nodePort > 0 ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`)).join(','));
}

/** A map selector as kubectl prints it (`app=web,tier=db`, sorted), `<none>` when empty. */
export function mapSelectorText(sel: Record<string, string> | undefined): string {
  return selectorText({ matchLabels: sel ?? {}, matchExpressions: [] });
}

const services: Columns<Service> = {
  headers: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
  wide: ['SELECTOR'],
  row: (s, now) => [
    s.metadata?.name ?? '',
    s.spec?.type ?? '',
    none(s.spec?.clusterIP ?? ''),
    externalIPText(s),
    servicePortsText(s.spec?.ports ?? []),
    age(s.metadata?.creationTimestamp, now),
  ],
  wideRow: (s) => [mapSelectorText(s.spec?.selector)],
};

// kubectl's listWithMoreString: the first three, then "+ N more...".
function firstThree(items: readonly string[]): string {
  if (items.length === 0) return '<unset>';
  const head = items.slice(0, 3).join(',');
  return items.length > 3 ? `${head} + ${items.length - 3} more...` : head;
}

export function endpointSlicePortsText(ports: readonly EndpointPort[]): string {
  return firstThree(ports.map((p) => (p.port !== undefined ? String(p.port) : (p.name ?? '*'))));
}

export function endpointAddressesText(endpoints: readonly Endpoint[]): string {
  return firstThree(endpoints.flatMap((e) => e.addresses));
}

const endpointSlices: Columns<EndpointSlice> = {
  headers: ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'],
  wide: [],
  row: (e, now) => [
    e.metadata?.name ?? '',
    e.addressType,
    endpointSlicePortsText(e.ports),
    endpointAddressesText(e.endpoints),
    age(e.metadata?.creationTimestamp, now),
  ],
  wideRow: () => [],
};

// kubectl: DATA counts keys (data and binaryData); values are never shown in tables.
const configMaps: Columns<ConfigMap> = {
  headers: ['NAME', 'DATA', 'AGE'],
  wide: [],
  row: (c, now) => [c.metadata?.name ?? '', String(Object.keys(c.data).length + Object.keys(c.binaryData).length), age(c.metadata?.creationTimestamp, now)],
  wideRow: () => [],
};

const secrets: Columns<Secret> = {
  headers: ['NAME', 'TYPE', 'DATA', 'AGE'],
  wide: [],
  row: (s, now) => [s.metadata?.name ?? '', s.type, String(Object.keys(s.data).length), age(s.metadata?.creationTimestamp, now)],
  wideRow: () => [],
};

/**
 * kubectl's HPA TARGETS: "cpu: 37%/50%" per metric, "<unknown>" before the first figure,
 * the first two metrics then "+ N more...".
 */
export function hpaTargetsText(h: HorizontalPodAutoscaler): string {
  const specs = h.spec?.metrics ?? [];
  const parts = specs.map((m, i) => {
    const name = m.resource?.name ?? m.type;
    const target = m.resource?.target;
    const current = h.status?.currentMetrics[i]?.resource?.current;
    if (target?.type === 'Utilization') {
      const cur = current?.averageUtilization !== undefined ? `${current.averageUtilization}%` : '<unknown>';
      return `${name}: ${cur}/${target.averageUtilization ?? 0}%`;
    }
    const cur = current?.averageValue || '<unknown>';
    return `${name}: ${cur}/${target?.averageValue ?? ''}`;
  });
  if (parts.length === 0) return '<none>';
  return parts.length > 2 ? `${parts.slice(0, 2).join(', ')} + ${parts.length - 2} more...` : parts.join(', ');
}

const hpas: Columns<HorizontalPodAutoscaler> = {
  headers: ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE'],
  wide: [],
  row: (h, now) => [
    h.metadata?.name ?? '',
    `${h.spec?.scaleTargetRef?.kind ?? ''}/${h.spec?.scaleTargetRef?.name ?? ''}`,
    hpaTargetsText(h),
    String(h.spec?.minReplicas ?? 1),
    String(h.spec?.maxReplicas ?? 0),
    String(h.status?.currentReplicas ?? 0),
    age(h.metadata?.creationTimestamp, now),
  ],
  wideRow: () => [],
};

const podMetrics: Columns<PodMetrics> = {
  headers: ['NAME', 'CPU', 'MEMORY', 'WINDOW'],
  wide: [],
  row: (m) => {
    const u = podUsage(m);
    return [m.metadata?.name ?? '', formatCpu(u.cpuCores), formatMemory(u.memoryBytes), m.window];
  },
  wideRow: () => [],
};

const nodeMetrics: Columns<NodeMetrics> = {
  headers: ['NAME', 'CPU', 'MEMORY', 'WINDOW'],
  wide: [],
  row: (m) => [m.metadata?.name ?? '', formatCpu(quantityValue(m.usage.cpu)), formatMemory(quantityValue(m.usage.memory)), m.window],
  wideRow: () => [],
};

const COLUMNS: { [K in Kind]: Columns<never> } = {
  HorizontalPodAutoscaler: hpas,
  PodMetrics: podMetrics,
  NodeMetrics: nodeMetrics,
  Service: services,
  EndpointSlice: endpointSlices,
  Pod: pods,
  Deployment: deployments,
  ReplicaSet: replicaSets,
  Node: nodes,
  Namespace: namespaces,
  Event: events,
  Lease: leases,
  PersistentVolumeClaim: persistentVolumeClaims,
  PersistentVolume: persistentVolumes,
  StorageClass: storageClasses,
  ConfigMap: configMaps,
  Secret: secrets,
  Role: roles,
  ClusterRole: clusterRoles,
  RoleBinding: roleBindings,
  ClusterRoleBinding: clusterRoleBindings,
  CertificateSigningRequest: certificateSigningRequests,
};

function columnsOf(info: KindInfo): Columns<AnyObject> {
  return COLUMNS[info.kind];
}

export function tableHeaders(info: KindInfo, opts: Pick<TableOptions, 'wide' | 'withNamespace'>): string[] {
  const c = columnsOf(info);
  return [...(opts.withNamespace ? ['NAMESPACE'] : []), ...c.headers, ...(opts.wide ? c.wide : [])];
}

export function tableRow(info: KindInfo, o: AnyObject, opts: TableOptions): Row {
  const c = columnsOf(info);
  return [
    ...(opts.withNamespace ? [o.metadata?.namespace ?? ''] : []),
    ...c.row(o, opts.now),
    ...(opts.wide ? c.wideRow(o, opts.now) : []),
  ];
}

/** Events sort by when they last happened, everything else by namespace and name. */
export function sortForTable(info: KindInfo, objs: readonly AnyObject[]): AnyObject[] {
  const out = [...objs];
  if (info.kind === 'Event') {
    return out.sort((a, b) => Date.parse(eventTime(a as Event)) - Date.parse(eventTime(b as Event)) || 0);
  }
  const key = (o: AnyObject): string => `${o.metadata?.namespace ?? ''}\u0000${o.metadata?.name ?? ''}`;
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export function buildTable(info: KindInfo, objs: readonly AnyObject[], opts: TableOptions): Table {
  return {
    headers: tableHeaders(info, opts),
    rows: sortForTable(info, objs).map((o) => tableRow(info, o, opts)),
  };
}
