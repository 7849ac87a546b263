// Objects for the CLI's render tests, written as users and the server write them (Kubernetes
// JSON) and read with the same manifest codec.
import { fromManifest, type JsonObject } from '../../proto/api/manifest.js';
import type { Deployment, ReplicaSet } from '../../proto/gen/skiff/v1/apps.js';
import type { Event, Node, Pod } from '../../proto/gen/skiff/v1/core.js';

export const NOW = Date.parse('2026-03-01T12:00:00Z');
export const ago = (ms: number): string => new Date(NOW - ms).toISOString();

export function pod(name: string, extra: { spec?: JsonObject; status?: JsonObject; metadata?: JsonObject } = {}): Pod {
  return fromManifest({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', creationTimestamp: ago(60_000), ...extra.metadata },
    spec: { containers: [{ name: 'app', image: 'hello:1' }], nodeName: 'n1', ...extra.spec },
    status: extra.status ?? {},
  }).object as Pod;
}

export function runningReady(name: string, owner?: { uid: string; name: string }): Pod {
  return pod(name, {
    metadata: owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner.name, uid: owner.uid, controller: true }] } : {},
    status: {
      phase: 'Running',
      podIP: '10.88.0.5',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: { running: { startedAt: ago(50_000) } } }],
    },
  });
}

export function crashLooping(name: string, owner: { uid: string; name: string }, restarts = 3): Pod {
  return pod(name, {
    metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner.name, uid: owner.uid, controller: true }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False' }],
      containerStatuses: [{
        name: 'app', ready: false, restartCount: restarts,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(20_000) } },
      }],
    },
  });
}

export function deployment(name: string, opts: { replicas?: number; generation?: number; status?: JsonObject; revision?: string; paused?: boolean } = {}): Deployment {
  return fromManifest({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name, namespace: 'default', uid: `uid-${name}`, generation: opts.generation ?? 1, creationTimestamp: ago(3_600_000),
      annotations: { 'deployment.kubernetes.io/revision': opts.revision ?? '1' },
    },
    spec: {
      replicas: opts.replicas ?? 3,
      paused: opts.paused ?? false,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'hello:1' }] } },
    },
    status: opts.status ?? {},
  }).object as Deployment;
}

export function replicaSet(name: string, owner: Deployment, revision: number, opts: { replicas?: number; status?: JsonObject; image?: string; changeCause?: string } = {}): ReplicaSet {
  const app = owner.metadata?.name ?? '';
  const hash = name.slice(name.lastIndexOf('-') + 1);
  return fromManifest({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: ago(600_000),
      labels: { app, 'pod-template-hash': hash },
      annotations: {
        'deployment.kubernetes.io/revision': String(revision),
        ...(opts.changeCause ? { 'kubernetes.io/change-cause': opts.changeCause } : {}),
      },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: app, uid: owner.metadata?.uid ?? '', controller: true }],
    },
    spec: {
      replicas: opts.replicas ?? 3,
      selector: { matchLabels: { app, 'pod-template-hash': hash } },
      template: {
        metadata: { labels: { app, 'pod-template-hash': hash } },
        spec: { containers: [{ name: 'app', image: opts.image ?? 'hello:1' }] },
      },
    },
    status: opts.status ?? {},
  }).object as ReplicaSet;
}

export function node(name: string, ready: boolean, extra: JsonObject = {}): Node {
  return fromManifest({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, creationTimestamp: ago(86_400_000), labels: { 'node-role.kubernetes.io/worker': '' } },
    spec: extra,
    status: {
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'Unknown', reason: ready ? 'AgentReady' : 'NodeStatusUnknown' }],
      nodeInfo: { kubeletVersion: 'skiff-0.1.0', osImage: 'Debian 12' },
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
    },
  }).object as Node;
}

export function event(name: string, reason: string, lastMs: number, message: string): Event {
  return fromManifest({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: 'default' },
    involvedObject: { kind: 'Deployment', name: 'web', namespace: 'default', uid: 'uid-web' },
    reason, message, type: 'Normal', count: 1,
    firstTimestamp: ago(lastMs), lastTimestamp: ago(lastMs),
    source: { component: 'deployment-controller' },
  }).object as Event;
}
