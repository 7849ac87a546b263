// The resource kinds Skiff serves: names, API versions, short names and the generated message
// for each. Every layer (storage, API server, CLI, agent) looks kinds up here, so adding a kind
// is one entry plus its message in proto/skiff/v1.
import type { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { Deployment, ReplicaSet } from '../gen/skiff/v1/apps.js';
import { Lease } from '../gen/skiff/v1/coordination.js';
import { ConfigMap, Secret } from '../gen/skiff/v1/config.js';
import { Event, Namespace, Node, Pod, Service } from '../gen/skiff/v1/core.js';
import { EndpointSlice } from '../gen/skiff/v1/discovery.js';
import { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../gen/skiff/v1/storage.js';
import { HorizontalPodAutoscaler } from '../gen/skiff/v1/autoscaling.js';
import { NodeMetrics, PodMetrics } from '../gen/skiff/v1/metrics.js';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from '../gen/skiff/v1/rbac.js';
import { CertificateSigningRequest } from '../gen/skiff/v1/certificates.js';
import type { Resource } from '../gen/skiff/v1/api.js';
import type { ObjectMeta } from '../gen/skiff/v1/meta.js';

export interface Codec<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: BinaryReader | Uint8Array, length?: number): T;
}

export interface KindMap {
  Namespace: Namespace;
  Node: Node;
  Pod: Pod;
  ReplicaSet: ReplicaSet;
  Deployment: Deployment;
  Event: Event;
  Lease: Lease;
  Service: Service;
  EndpointSlice: EndpointSlice;
  PersistentVolumeClaim: PersistentVolumeClaim;
  PersistentVolume: PersistentVolume;
  StorageClass: StorageClass;
  ConfigMap: ConfigMap;
  Secret: Secret;
  HorizontalPodAutoscaler: HorizontalPodAutoscaler;
  PodMetrics: PodMetrics;
  NodeMetrics: NodeMetrics;
  Role: Role;
  ClusterRole: ClusterRole;
  RoleBinding: RoleBinding;
  ClusterRoleBinding: ClusterRoleBinding;
  CertificateSigningRequest: CertificateSigningRequest;
}
export type Kind = keyof KindMap;
export type AnyObject = KindMap[Kind];
export type ResourceCase = NonNullable<Resource['object']>['$case'];

export interface KindInfo<K extends Kind = Kind> {
  kind: K;
  /** apiVersion written in manifests and returned objects. */
  apiVersion: string;
  /** Other apiVersions accepted on input for the same kind. */
  acceptedVersions: readonly string[];
  plural: string;
  singular: string;
  shortNames: readonly string[];
  namespaced: boolean;
  /** Case name in the Resource oneof. */
  case: ResourceCase;
  /** Full protobuf message name, the key into proto/gen/schema.ts. */
  message: string;
  /** Top-level fields that hold the user's desired state (bump generation when changed). */
  specFields: readonly string[];
  codec: Codec<KindMap[K]>;
  /**
   * Never stored: built on each read from what the node agents report (metrics.k8s.io, as
   * metrics-server serves it); get and list only.
   */
  readOnly?: boolean;
}

function info<K extends Kind>(i: KindInfo<K>): KindInfo<K> {
  return i;
}

export const KINDS: { [K in Kind]: KindInfo<K> } = {
  Namespace: info({
    kind: 'Namespace', apiVersion: 'v1', acceptedVersions: ['v1'], plural: 'namespaces', singular: 'namespace',
    shortNames: ['ns'], namespaced: false, case: 'namespace', message: 'skiff.v1.Namespace',
    specFields: ['spec'], codec: Namespace,
  }),
  Node: info({
    kind: 'Node', apiVersion: 'v1', acceptedVersions: ['v1'], plural: 'nodes', singular: 'node',
    shortNames: ['no'], namespaced: false, case: 'node', message: 'skiff.v1.Node',
    specFields: ['spec'], codec: Node,
  }),
  Pod: info({
    kind: 'Pod', apiVersion: 'v1', acceptedVersions: ['v1'], plural: 'pods', singular: 'pod',
    shortNames: ['po'], namespaced: true, case: 'pod', message: 'skiff.v1.Pod',
    specFields: ['spec'], codec: Pod,
  }),
  ReplicaSet: info({
    kind: 'ReplicaSet', apiVersion: 'apps/v1', acceptedVersions: ['apps/v1'], plural: 'replicasets',
    singular: 'replicaset', shortNames: ['rs'], namespaced: true, case: 'replicaSet',
    message: 'skiff.v1.ReplicaSet', specFields: ['spec'], codec: ReplicaSet,
  }),
  Deployment: info({
    kind: 'Deployment', apiVersion: 'apps/v1', acceptedVersions: ['apps/v1'], plural: 'deployments',
    singular: 'deployment', shortNames: ['deploy'], namespaced: true, case: 'deployment',
    message: 'skiff.v1.Deployment', specFields: ['spec'], codec: Deployment,
  }),
  Event: info({
    kind: 'Event', apiVersion: 'v1', acceptedVersions: ['v1', 'events.k8s.io/v1'], plural: 'events',
    singular: 'event', shortNames: ['ev'], namespaced: true, case: 'event', message: 'skiff.v1.Event',
    specFields: [], codec: Event,
  }),
  Lease: info({
    kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', acceptedVersions: ['coordination.k8s.io/v1'],
    plural: 'leases', singular: 'lease', shortNames: [], namespaced: true, case: 'lease',
    message: 'skiff.v1.Lease', specFields: ['spec'], codec: Lease,
  }),
  Service: info({
    kind: 'Service', apiVersion: 'v1', acceptedVersions: ['v1'], plural: 'services', singular: 'service',
    shortNames: ['svc'], namespaced: true, case: 'service', message: 'skiff.v1.Service',
    specFields: ['spec'], codec: Service,
  }),
  // Kubernetes has no short name for it; the singular "endpointslice" is an alias as for every kind.
  EndpointSlice: info({
    kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', acceptedVersions: ['discovery.k8s.io/v1'],
    plural: 'endpointslices', singular: 'endpointslice', shortNames: [], namespaced: true, case: 'endpointSlice',
    message: 'skiff.v1.EndpointSlice', specFields: ['addressType', 'endpoints', 'ports'], codec: EndpointSlice,
  }),
  PersistentVolumeClaim: info({
    kind: 'PersistentVolumeClaim', apiVersion: 'v1', acceptedVersions: ['v1'], plural: 'persistentvolumeclaims',
    singular: 'persistentvolumeclaim', shortNames: ['pvc'], namespaced: true, case: 'persistentVolumeClaim',
    message: 'skiff.v1.PersistentVolumeClaim', specFields: ['spec'], codec: PersistentVolumeClaim,
  }),
  PersistentVolume: info({
    kind: 'PersistentVolume', apiVersion: 'v1', acceptedVersions: ['v1'], plural: 'persistentvolumes',
    singular: 'persistentvolume', shortNames: ['pv'], namespaced: false, case: 'persistentVolume',
    message: 'skiff.v1.PersistentVolume', specFields: ['spec'], codec: PersistentVolume,
  }),
  StorageClass: info({
    kind: 'StorageClass', apiVersion: 'storage.k8s.io/v1', acceptedVersions: ['storage.k8s.io/v1'], plural: 'storageclasses',
    singular: 'storageclass', shortNames: ['sc'], namespaced: false, case: 'storageClass',
    message: 'skiff.v1.StorageClass', specFields: ['provisioner', 'parameters', 'reclaimPolicy', 'volumeBindingMode'], codec: StorageClass,
  }),
  // No spec: as in Kubernetes, writes never bump generation.
  ConfigMap: info({
    kind: 'ConfigMap', apiVersion: 'v1', acceptedVersions: ['v1'], plural: 'configmaps', singular: 'configmap',
    shortNames: ['cm'], namespaced: true, case: 'configMap', message: 'skiff.v1.ConfigMap',
    specFields: [], codec: ConfigMap,
  }),
  Secret: info({
    kind: 'Secret', apiVersion: 'v1', acceptedVersions: ['v1'], plural: 'secrets', singular: 'secret',
    shortNames: [], namespaced: true, case: 'secret', message: 'skiff.v1.Secret',
    specFields: [], codec: Secret,
  }),
  HorizontalPodAutoscaler: info({
    kind: 'HorizontalPodAutoscaler', apiVersion: 'autoscaling/v2', acceptedVersions: ['autoscaling/v2'],
    plural: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', shortNames: ['hpa'], namespaced: true,
    case: 'horizontalPodAutoscaler', message: 'skiff.v1.HorizontalPodAutoscaler', specFields: ['spec'],
    codec: HorizontalPodAutoscaler,
  }),
  PodMetrics: info({
    kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', acceptedVersions: ['metrics.k8s.io/v1beta1'],
    plural: 'pods.metrics.k8s.io', singular: 'podmetrics', shortNames: [], namespaced: true, case: 'podMetrics',
    message: 'skiff.v1.PodMetrics', specFields: [], codec: PodMetrics, readOnly: true,
  }),
  NodeMetrics: info({
    kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1', acceptedVersions: ['metrics.k8s.io/v1beta1'],
    plural: 'nodes.metrics.k8s.io', singular: 'nodemetrics', shortNames: [], namespaced: false, case: 'nodeMetrics',
    message: 'skiff.v1.NodeMetrics', specFields: [], codec: NodeMetrics, readOnly: true,
  }),
  // rbac.authorization.k8s.io/v1: no spec, so (as in Kubernetes) writes never bump generation.
  Role: info({
    kind: 'Role', apiVersion: 'rbac.authorization.k8s.io/v1', acceptedVersions: ['rbac.authorization.k8s.io/v1'],
    plural: 'roles', singular: 'role', shortNames: [], namespaced: true, case: 'role',
    message: 'skiff.v1.Role', specFields: [], codec: Role,
  }),
  ClusterRole: info({
    kind: 'ClusterRole', apiVersion: 'rbac.authorization.k8s.io/v1', acceptedVersions: ['rbac.authorization.k8s.io/v1'],
    plural: 'clusterroles', singular: 'clusterrole', shortNames: [], namespaced: false, case: 'clusterRole',
    message: 'skiff.v1.ClusterRole', specFields: [], codec: ClusterRole,
  }),
  RoleBinding: info({
    kind: 'RoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', acceptedVersions: ['rbac.authorization.k8s.io/v1'],
    plural: 'rolebindings', singular: 'rolebinding', shortNames: [], namespaced: true, case: 'roleBinding',
    message: 'skiff.v1.RoleBinding', specFields: [], codec: RoleBinding,
  }),
  ClusterRoleBinding: info({
    kind: 'ClusterRoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', acceptedVersions: ['rbac.authorization.k8s.io/v1'],
    plural: 'clusterrolebindings', singular: 'clusterrolebinding', shortNames: [], namespaced: false, case: 'clusterRoleBinding',
    message: 'skiff.v1.ClusterRoleBinding', specFields: [], codec: ClusterRoleBinding,
  }),
  CertificateSigningRequest: info({
    kind: 'CertificateSigningRequest', apiVersion: 'certificates.k8s.io/v1', acceptedVersions: ['certificates.k8s.io/v1'],
    plural: 'certificatesigningrequests', singular: 'certificatesigningrequest', shortNames: ['csr'], namespaced: false,
    case: 'certificateSigningRequest', message: 'skiff.v1.CertificateSigningRequest', specFields: ['spec'], codec: CertificateSigningRequest,
  }),
};

export const KIND_NAMES = Object.keys(KINDS) as Kind[];

const byAlias = new Map<string, KindInfo>();
for (const k of KIND_NAMES) {
  const i = KINDS[k] as KindInfo;
  for (const alias of [i.kind, i.plural, i.singular, ...i.shortNames]) byAlias.set(alias.toLowerCase(), i);
}

/** Finds a kind by name, plural, singular or short name, case-insensitively. */
export function lookupKind(name: string): KindInfo | undefined {
  return byAlias.get(name.toLowerCase());
}

export function kindOfCase(c: ResourceCase): KindInfo {
  const k = KIND_NAMES.find((n) => KINDS[n].case === c);
  if (!k) throw new Error(`unknown resource case ${c}`);
  return KINDS[k];
}

/** Wraps a typed object in the Resource oneof used on the wire. */
export function wrap<K extends Kind>(kind: K, value: KindMap[K]): Resource {
  return { object: { $case: KINDS[kind].case, value } as Resource['object'] };
}

/** Unwraps a Resource into its kind and value; throws on an empty Resource. */
export function unwrap(r: Resource | undefined): { info: KindInfo; value: AnyObject } {
  if (!r?.object) throw new Error('empty resource');
  return { info: kindOfCase(r.object.$case), value: r.object.value };
}

/** Unwraps a Resource that must be of the given kind. */
export function unwrapAs<K extends Kind>(kind: K, r: Resource | undefined): KindMap[K] {
  const { info: i, value } = unwrap(r);
  if (i.kind !== kind) throw new Error(`expected ${kind}, got ${i.kind}`);
  return value as KindMap[K];
}

export function metaOf(o: AnyObject): ObjectMeta {
  if (!o.metadata) o.metadata = emptyMeta();
  return o.metadata;
}

export function emptyMeta(): ObjectMeta {
  return {
    name: '', generateName: '', namespace: '', uid: '', resourceVersion: '', generation: 0,
    creationTimestamp: '', deletionTimestamp: '', labels: {}, annotations: {}, ownerReferences: [],
    finalizers: [],
  };
}

/** "namespace/name" for namespaced objects, "name" otherwise: the cache and queue key. */
export function objectKey(o: AnyObject): string {
  const m = o.metadata;
  return m?.namespace ? `${m.namespace}/${m.name}` : (m?.name ?? '');
}
