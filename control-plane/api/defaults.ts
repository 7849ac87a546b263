// Server-side defaulting, value for value as Kubernetes' SetDefaults_* functions do it, so a
// manifest written for Kubernetes reads back with the fields kubectl users expect. Pure:
// mutates the object it is given and reads nothing else.
import type { HorizontalPodAutoscaler } from '../../proto/gen/skiff/v1/autoscaling.js';
import type { RoleBinding } from '../../proto/gen/skiff/v1/rbac.js';
import { defaultSubjects } from './validation/rbac.js';
import { defaultedRules } from '../controllers/hpa/behavior.js';
import { KINDS, metaOf, type AnyObject, type KindInfo } from '../../proto/api/kinds.js';
import type { Deployment, DeploymentSpec, ReplicaSet } from '../../proto/gen/skiff/v1/apps.js';
import {
  PodStatus, type Container, type Namespace, type Pod, type PodSpec, type PodTemplateSpec, type Probe, type Service,
} from '../../proto/gen/skiff/v1/core.js';
import type { Secret } from '../../proto/gen/skiff/v1/config.js';
import type { EndpointSlice } from '../../proto/gen/skiff/v1/discovery.js';
import type { IntOrString } from '../../proto/gen/skiff/v1/meta.js';
import { parseQuantity } from '../../proto/api/quantity.js';
import { PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER } from '../../proto/api/storage.js';
import {
  PersistentVolumeClaimStatus, PersistentVolumeStatus, type PersistentVolume, type PersistentVolumeClaim, type StorageClass,
} from '../../proto/gen/skiff/v1/storage.js';

export const DEFAULT_NAMESPACE = 'default';

const pct = (s: string): IntOrString => ({ type: 1, intVal: 0, strVal: s });

/** The image's tag, '' when it has none; a digest counts as a tag that is not "latest". */
export function imageTag(image: string): string {
  if (image.includes('@')) return 'digest';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > lastSlash ? image.slice(colon + 1) : '';
}

function defaultProbe(p: Probe | undefined): void {
  if (!p) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (p.httpGet) {
    if (!p.httpGet.path) p.httpGet.path = '/';
    if (!p.httpGet.scheme) p.httpGet.scheme = 'HTTP';
  }
}

// Kubernetes' SetDefaults_Pod: a limit without a request requests the limit.
function defaultRequests(c: Container): void {
  if (!c.resources) return;
  for (const [name, limit] of Object.entries(c.resources.limits)) {
    if (!(name in c.resources.requests)) c.resources.requests[name] = limit;
  }
}

function defaultContainer(c: Container): void {
  defaultRequests(c);
  if (!c.imagePullPolicy) {
    const tag = imageTag(c.image);
    c.imagePullPolicy = tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  for (const p of c.ports) if (!p.protocol) p.protocol = 'TCP';
  if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log';
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
}

export function defaultPodSpec(s: PodSpec | undefined): void {
  if (!s) return;
  if (!s.restartPolicy) s.restartPolicy = 'Always';
  s.terminationGracePeriodSeconds ??= 30;
  if (!s.dnsPolicy) s.dnsPolicy = 'ClusterFirst';
  if (!s.schedulerName) s.schedulerName = 'default-scheduler';
  s.containers.forEach(defaultContainer);
  s.initContainers.forEach(defaultContainer);
}

function defaultTemplate(t: PodTemplateSpec | undefined): void {
  defaultPodSpec(t?.spec);
}

function defaultDeploymentSpec(s: DeploymentSpec | undefined): void {
  if (!s) return;
  s.replicas ??= 1;
  s.revisionHistoryLimit ??= 10;
  s.progressDeadlineSeconds ??= 600;
  s.strategy ??= { type: '', rollingUpdate: undefined };
  if (!s.strategy.type) s.strategy.type = 'RollingUpdate';
  if (s.strategy.type === 'RollingUpdate') {
    s.strategy.rollingUpdate ??= { maxUnavailable: undefined, maxSurge: undefined };
    s.strategy.rollingUpdate.maxUnavailable ??= pct('25%');
    s.strategy.rollingUpdate.maxSurge ??= pct('25%');
  }
  defaultTemplate(s.template);
}

/** Kubernetes' SetDefaults_Service, for the single-stack IPv4 clusters Skiff runs. */
export const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10800;

function defaultService(svc: Service): void {
  const s = svc.spec;
  if (!s) return;
  if (!s.type) s.type = 'ClusterIP';
  if (!s.sessionAffinity) s.sessionAffinity = 'None';
  if (s.sessionAffinity === 'ClientIP') {
    s.sessionAffinityConfig ??= { clientIP: undefined };
    s.sessionAffinityConfig.clientIP ??= { timeoutSeconds: undefined };
    s.sessionAffinityConfig.clientIP.timeoutSeconds ??= DEFAULT_CLIENT_IP_TIMEOUT_SECONDS;
  }
  for (const p of s.ports) {
    if (!p.protocol) p.protocol = 'TCP';
    const t = p.targetPort;
    if (!t || (t.type === 0 && t.intVal === 0) || (t.type === 1 && t.strVal === '')) p.targetPort = { type: 0, intVal: p.port, strVal: '' };
  }
  if ((s.type === 'NodePort' || s.type === 'LoadBalancer') && !s.externalTrafficPolicy) s.externalTrafficPolicy = 'Cluster';
  s.internalTrafficPolicy ??= 'Cluster';
  // The registry fills these when it allocates; every Skiff service is single-stack IPv4.
  s.ipFamilyPolicy ??= 'SingleStack';
  if (s.ipFamilies.length === 0) s.ipFamilies = ['IPv4'];
  if (s.clusterIP && s.clusterIPs.length === 0) s.clusterIPs = [s.clusterIP];
  if (!s.clusterIP && s.clusterIPs.length > 0) s.clusterIP = s.clusterIPs[0]!;
}

// SetDefaults_EndpointPort: a port without a name is named "", without a protocol TCP.
function defaultEndpointSlice(e: EndpointSlice): void {
  for (const p of e.ports) {
    p.name ??= '';
    p.protocol ??= 'TCP';
  }
}

// Kubernetes merges stringData into data when it converts a v1 Secret (stringData wins) and
// never stores it; type defaults to Opaque.
function defaultSecret(s: Secret): void {
  if (!s.type) s.type = 'Opaque';
  for (const [k, v] of Object.entries(s.stringData)) s.data[k] = Buffer.from(v, 'utf8');
  s.stringData = {};
}

/**
 * Fills every defaulted field of an object of the given kind, and the apiVersion, kind and
 * namespace ("default" for namespaced kinds when empty).
 */
export function applyDefaults(info: KindInfo, o: AnyObject): void {
  o.apiVersion = info.apiVersion;
  o.kind = info.kind;
  const m = metaOf(o);
  if (info.namespaced && !m.namespace) m.namespace = DEFAULT_NAMESPACE;
  if (!info.namespaced) m.namespace = '';
  switch (info.kind) {
    case 'Pod':
      defaultPodSpec((o as Pod).spec);
      break;
    case 'ReplicaSet': {
      const rs = o as ReplicaSet;
      if (rs.spec) {
        rs.spec.replicas ??= 1;
        defaultTemplate(rs.spec.template);
      }
      break;
    }
    case 'Deployment':
      defaultDeploymentSpec((o as Deployment).spec);
      break;
    case 'Service':
      defaultService(o as Service);
      break;
    case 'EndpointSlice':
      defaultEndpointSlice(o as EndpointSlice);
      break;
    case 'PersistentVolumeClaim': {
      const spec = (o as PersistentVolumeClaim).spec;
      if (spec) spec.volumeMode ??= 'Filesystem';
      break;
    }
    case 'PersistentVolume': {
      // Kubernetes' default for a volume made by hand: keep the data.
      const spec = (o as PersistentVolume).spec;
      if (spec) {
        spec.volumeMode ??= 'Filesystem';
        if (!spec.persistentVolumeReclaimPolicy) spec.persistentVolumeReclaimPolicy = 'Retain';
      }
      break;
    }
    case 'StorageClass': {
      const sc = o as StorageClass;
      sc.reclaimPolicy ??= 'Delete';
      sc.volumeBindingMode ??= 'Immediate';
      break;
    }
    case 'Secret':
      defaultSecret(o as Secret);
      break;
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      defaultSubjects((o as RoleBinding).subjects);
      break;
    case 'HorizontalPodAutoscaler':
      defaultHorizontalPodAutoscaler(o as HorizontalPodAutoscaler);
      break;
    case 'Namespace': {
      const ns = o as Namespace;
      ns.status ??= { phase: '' };
      if (!ns.status.phase) ns.status.phase = 'Active';
      break;
    }
    default:
      break;
  }
}

/** Kubernetes' autoscaling/v2 defaults: minReplicas 1, 80% CPU when no metric, a given behavior filled in. */
function defaultHorizontalPodAutoscaler(h: HorizontalPodAutoscaler): void {
  const s = h.spec;
  if (!s) return;
  s.minReplicas ??= 1;
  if (s.metrics.length === 0) {
    s.metrics.push({
      type: 'Resource',
      resource: { name: 'cpu', target: { type: 'Utilization', value: '', averageValue: '', averageUtilization: 80 } },
    });
  }
  if (s.behavior) {
    s.behavior.scaleUp = defaultedRules(s.behavior.scaleUp, true);
    s.behavior.scaleDown = defaultedRules(s.behavior.scaleDown, false);
  }
}

/** Defaults that only a create sets: a new pod starts Pending. */
export function applyCreateDefaults(info: KindInfo, o: AnyObject): void {
  // As Kubernetes' StorageObjectInUseProtection admission: a claim in use by a pod, and a
  // bound volume, stay until the binding controller lets them go.
  if (info.kind === 'PersistentVolumeClaim') {
    const m = metaOf(o);
    if (!m.finalizers.includes(PVC_PROTECTION_FINALIZER)) m.finalizers.push(PVC_PROTECTION_FINALIZER);
    (o as PersistentVolumeClaim).status = PersistentVolumeClaimStatus.fromPartial({ phase: 'Pending' });
    return;
  }
  if (info.kind === 'PersistentVolume') {
    const m = metaOf(o);
    if (!m.finalizers.includes(PV_PROTECTION_FINALIZER)) m.finalizers.push(PV_PROTECTION_FINALIZER);
    const pv = o as PersistentVolume;
    if (!pv.status?.phase) pv.status = PersistentVolumeStatus.fromPartial({ phase: 'Available' });
    return;
  }
  if (info.kind !== KINDS.Pod.kind) return;
  const p = o as Pod;
  p.status ??= PodStatus.fromPartial({});
  if (!p.status.phase) p.status.phase = 'Pending';
  if (!p.status.qosClass && p.spec) p.status.qosClass = qosClass(p.spec);
}

const QOS_RESOURCES = ['cpu', 'memory'];

function quantityValue(text: string): number | undefined {
  try {
    return parseQuantity(text).value;
  } catch {
    return undefined;
  }
}

/** Kubernetes' QoS class of a (defaulted) pod spec: Guaranteed, Burstable or BestEffort. */
export function qosClass(spec: PodSpec): string {
  const all = [...spec.initContainers, ...spec.containers];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of QOS_RESOURCES) {
      if (r in req || r in lim) any = true;
      const l = lim[r];
      const q = req[r];
      if (l === undefined || q === undefined || quantityValue(l) !== quantityValue(q)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
