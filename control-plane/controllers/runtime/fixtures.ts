// Builders of objects for controller tests, written as Kubernetes JSON and converted with the
// API's own manifest codec so they look exactly like what the informers hold.
import { fromManifest, type JsonObject } from '../../../proto/api/manifest.js';
import type { Deployment, ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import type { OwnerReference } from '../../../proto/gen/skiff/v1/meta.js';

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function withServerMeta<T extends { metadata?: { uid: string; resourceVersion: string; generation: number; creationTimestamp: string } }>(
  o: T,
  uid: string,
  created: number,
  generation = 1,
): T {
  o.metadata!.uid = uid;
  o.metadata!.resourceVersion = '1';
  o.metadata!.generation = generation;
  o.metadata!.creationTimestamp = iso(created);
  return o;
}

export interface RsOpts {
  replicas?: number;
  labels?: Record<string, string>;
  uid?: string;
  minReadySeconds?: number;
  image?: string;
  annotations?: Record<string, string>;
  owner?: OwnerReference;
  created?: number;
  status?: JsonObject;
  generation?: number;
}

export function rsFixture(name: string, o: RsOpts = {}): ReplicaSet {
  const labels = o.labels ?? { app: name };
  const rs = fromManifest({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default', labels, annotations: o.annotations ?? {} },
    spec: {
      replicas: o.replicas ?? 1,
      minReadySeconds: o.minReadySeconds ?? 0,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'app', image: o.image ?? 'busybox:1' }] },
      },
    },
    ...(o.status ? { status: o.status } : {}),
  }).object as ReplicaSet;
  if (o.owner) rs.metadata!.ownerReferences = [o.owner];
  return withServerMeta(rs, o.uid ?? `uid-${name}`, o.created ?? T0, o.generation ?? 1);
}

export interface PodOpts {
  labels?: Record<string, string>;
  owner?: OwnerReference;
  phase?: string;
  ready?: boolean;
  readySince?: number;
  nodeName?: string;
  created?: number;
  restarts?: number;
  waitingReason?: string;
  deleting?: boolean;
}

export function podFixture(name: string, o: PodOpts = {}): Pod {
  const p = fromManifest({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: o.labels ?? {} },
    spec: { containers: [{ name: 'app', image: 'busybox:1' }], ...(o.nodeName ? { nodeName: o.nodeName } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: o.ready
        ? [{ type: 'Ready', status: 'True', lastTransitionTime: iso(o.readySince ?? T0) }]
        : [{ type: 'Ready', status: 'False', lastTransitionTime: iso(o.created ?? T0) }],
      containerStatuses: [
        {
          name: 'app',
          ready: !!o.ready,
          restartCount: o.restarts ?? 0,
          ...(o.waitingReason ? { state: { waiting: { reason: o.waitingReason } } } : {}),
        },
      ],
    },
  }).object as Pod;
  if (o.owner) p.metadata!.ownerReferences = [o.owner];
  if (o.deleting) p.metadata!.deletionTimestamp = iso(T0);
  return withServerMeta(p, `uid-${name}`, o.created ?? T0);
}

export interface DeploymentOpts {
  replicas?: number;
  image?: string;
  labels?: Record<string, string>;
  strategy?: JsonObject;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  progressDeadlineSeconds?: number;
  paused?: boolean;
  autoRollback?: boolean;
  annotations?: Record<string, string>;
  templateAnnotations?: Record<string, string>;
  status?: JsonObject;
  generation?: number;
}

export function deploymentFixture(name: string, o: DeploymentOpts = {}): Deployment {
  const labels = o.labels ?? { app: name };
  const d = fromManifest({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', labels, annotations: o.annotations ?? {} },
    spec: {
      replicas: o.replicas ?? 1,
      selector: { matchLabels: labels },
      strategy: o.strategy ?? { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      minReadySeconds: o.minReadySeconds ?? 0,
      revisionHistoryLimit: o.revisionHistoryLimit ?? 10,
      progressDeadlineSeconds: o.progressDeadlineSeconds ?? 600,
      paused: o.paused ?? false,
      autoRollback: o.autoRollback ?? false,
      template: {
        metadata: { labels, annotations: o.templateAnnotations ?? {} },
        spec: { containers: [{ name: 'app', image: o.image ?? 'busybox:1' }] },
      },
    },
    ...(o.status ? { status: o.status } : {}),
  }).object as Deployment;
  return withServerMeta(d, `uid-${name}`, T0, o.generation ?? 1);
}
