// Test fixtures written the way users write them (Kubernetes JSON), converted with the same
// manifest codec the API uses.
import { fromManifest, type JsonObject } from '../../proto/api/manifest.js';
import type { Deployment } from '../../proto/gen/skiff/v1/apps.js';
import type { Node, Pod } from '../../proto/gen/skiff/v1/core.js';

export function podFixture(
  name: string,
  opts: { namespace?: string; labels?: Record<string, string>; nodeName?: string; phase?: string } = {},
): Pod {
  const doc: JsonObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: opts.namespace ?? 'default', labels: opts.labels ?? {} },
    spec: { containers: [{ name: 'app', image: 'busybox:1' }], ...(opts.nodeName ? { nodeName: opts.nodeName } : {}) },
    ...(opts.phase ? { status: { phase: opts.phase } } : {}),
  };
  return fromManifest(doc).object as Pod;
}

export function nodeFixture(name: string, labels: Record<string, string> = {}): Node {
  return fromManifest({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels } }).object as Node;
}

/** A Deployment with every kind of field set, to check that storage and watch round-trip all. */
export function fullDeploymentDoc(name = 'web'): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: 'default',
      labels: { app: name, tier: 'frontend' },
      annotations: { 'kubernetes.io/change-cause': 'initial', 'example.com/empty': '' },
      finalizers: ['example.com/keep'],
    },
    spec: {
      replicas: 0,
      selector: {
        matchLabels: { app: name },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend', 'edge'] }],
      },
      minReadySeconds: 5,
      revisionHistoryLimit: 3,
      progressDeadlineSeconds: 120,
      paused: true,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '50%', maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: name, tier: 'frontend' }, annotations: { a: 'b' } },
        spec: {
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 0,
          nodeSelector: { disk: 'ssd' },
          hostNetwork: false,
          securityContext: { runAsUser: 1000, runAsNonRoot: true, fsGroup: 2000 },
          imagePullSecrets: [{ name: 'regcred' }],
          tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }],
          volumes: [
            { name: 'scratch', emptyDir: {} },
            { name: 'host', hostPath: { path: '/var/log', type: 'Directory' } },
          ],
          containers: [
            {
              name: 'web',
              image: '127.0.0.1:5000/demo/hello:1',
              command: ['/bin/httpd'],
              args: ['-f', '-p', '8080'],
              workingDir: '/srv',
              env: [{ name: 'GREETING', value: 'hi' }, { name: 'EMPTY', value: '' }],
              ports: [{ name: 'http', containerPort: 8080, hostPort: 18080, protocol: 'TCP' }],
              resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } },
              volumeMounts: [{ name: 'scratch', mountPath: '/tmp' }, { name: 'host', mountPath: '/host', readOnly: true }],
              livenessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 5, failureThreshold: 0 },
              readinessProbe: { tcpSocket: { port: 'http' }, initialDelaySeconds: 1 },
              startupProbe: { exec: { command: ['cat', '/tmp/ready'] }, timeoutSeconds: 2 },
              imagePullPolicy: 'Always',
              securityContext: { runAsUser: 1001, readOnlyRootFilesystem: false, allowPrivilegeEscalation: false },
            },
          ],
        },
      },
      autoRollback: true,
    },
    status: {
      observedGeneration: 1,
      replicas: 2,
      updatedReplicas: 1,
      conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', lastUpdateTime: '2026-01-01T00:00:00Z' }],
      collisionCount: 0,
    },
  };
}

export function fullDeployment(name = 'web'): Deployment {
  return fromManifest(fullDeploymentDoc(name)).object as Deployment;
}
