import { describe, expect, it } from 'vitest';
import { KINDS } from '../../proto/api/kinds.js';
import { fromManifest, toManifest, type JsonObject } from '../../proto/api/manifest.js';
import { applyCreateDefaults, applyDefaults, imageTag } from './defaults.js';

function defaulted(doc: JsonObject, create = false): JsonObject {
  const { info, object } = fromManifest(doc);
  applyDefaults(info, object);
  if (create) applyCreateDefaults(info, object);
  return toManifest(info, object);
}

const container = (image: string, extra: JsonObject = {}): JsonObject => ({ name: 'c', image, ...extra });

describe('applyDefaults', () => {
  it('fills a bare Deployment exactly as Kubernetes does', () => {
    const out = defaulted({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [container('nginx:1.25', { ports: [{ containerPort: 80 }] })] },
        },
      },
    });
    expect(out).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [{
              name: 'c', image: 'nginx:1.25', ports: [{ containerPort: 80, protocol: 'TCP' }], imagePullPolicy: 'IfNotPresent',
              terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
            }],
            restartPolicy: 'Always',
            terminationGracePeriodSeconds: 30,
            schedulerName: 'default-scheduler',
            dnsPolicy: 'ClusterFirst',
          },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      },
    });
  });

  it('keeps what the manifest sets, including zeros of optional fields', () => {
    const out = defaulted({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'w', namespace: 'prod' },
      spec: {
        replicas: 0, revisionHistoryLimit: 0, strategy: { type: 'Recreate' },
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: { restartPolicy: 'Always', terminationGracePeriodSeconds: 0, containers: [container('x:1', { imagePullPolicy: 'Never' })] } },
      },
    }) as { metadata: JsonObject; spec: { replicas: number; revisionHistoryLimit: number; strategy: JsonObject; template: { spec: JsonObject } } };
    expect(out.metadata.namespace).toBe('prod');
    expect(out.spec.replicas).toBe(0);
    expect(out.spec.revisionHistoryLimit).toBe(0);
    expect(out.spec.strategy).toEqual({ type: 'Recreate' });
    expect(out.spec.template.spec.terminationGracePeriodSeconds).toBe(0);
    expect((out.spec.template.spec.containers as JsonObject[])[0]!.imagePullPolicy).toBe('Never');
  });

  it('fills one missing rolling-update parameter only', () => {
    const out = defaulted({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'w' },
      spec: { strategy: { rollingUpdate: { maxSurge: 1 } }, selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [container('x:1')] } } },
    }) as { spec: { strategy: JsonObject } };
    expect(out.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } });
  });

  it.each([
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.25', 'IfNotPresent'],
    ['127.0.0.1:5000/demo/hello', 'Always'],
    ['127.0.0.1:5000/demo/hello:1', 'IfNotPresent'],
    ['nginx@sha256:abcd', 'IfNotPresent'],
  ])('image %s pulls %s', (image, policy) => {
    const out = defaulted({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [container(image)] } }) as { spec: { containers: JsonObject[] } };
    expect(out.spec.containers[0]!.imagePullPolicy).toBe(policy);
  });

  it('defaults probes and their http handler', () => {
    const out = defaulted({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
      spec: { containers: [container('x:1', { readinessProbe: { httpGet: { port: 80 } }, livenessProbe: { exec: { command: ['true'] }, periodSeconds: 3 } })] },
    }) as { spec: { containers: JsonObject[] } };
    expect(out.spec.containers[0]!.readinessProbe).toEqual({ httpGet: { path: '/', port: 80, scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
    expect(out.spec.containers[0]!.livenessProbe).toEqual({ exec: { command: ['true'] }, timeoutSeconds: 1, periodSeconds: 3, successThreshold: 1, failureThreshold: 3 });
  });

  it('ReplicaSets get one replica; pods start Pending on create; namespaces are Active', () => {
    const rs = defaulted({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r' }, spec: { template: { spec: { containers: [container('x:1')] } } } }) as { spec: JsonObject };
    expect(rs.spec.replicas).toBe(1);
    const pod = defaulted({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [container('x:1')] } }, true);
    expect(pod.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
    const ns = defaulted({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', namespace: 'ignored' } });
    expect(ns).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' }, status: { phase: 'Active' } });
  });

  it('requests what a container limits when it requests nothing', () => {
    const out = defaulted({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
      spec: { containers: [container('x:1', { resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } } })] },
    }) as { spec: { containers: JsonObject[] } };
    expect(out.spec.containers[0]!.resources).toEqual({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m', memory: '1Gi' } });
  });

  it.each<[string, JsonObject[], string]>([
    ['no resources', [{}], 'BestEffort'],
    ['limits only (requests defaulted to them)', [{ limits: { cpu: '1', memory: '1Gi' } }], 'Guaranteed'],
    ['equal in other units', [{ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1000m', memory: '1024Mi' } }], 'Guaranteed'],
    ['requests below limits', [{ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '100m' } }], 'Burstable'],
    ['one container without limits', [{ limits: { cpu: '1', memory: '1Gi' } }, {}], 'Burstable'],
    ['memory only', [{ requests: { memory: '64Mi' } }], 'Burstable'],
  ])('QoS class: %s', (_name, resources, want) => {
    const out = defaulted({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
      spec: { containers: resources.map((r, i) => ({ name: `c${i}`, image: 'x:1', resources: r })) },
    }, true) as { status: JsonObject };
    expect(out.status.qosClass).toBe(want);
  });

  it('is idempotent', () => {
    const { object } = fromManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [container('x')] } });
    applyDefaults(KINDS.Pod, object);
    const once = toManifest(KINDS.Pod, object);
    applyDefaults(KINDS.Pod, object);
    expect(toManifest(KINDS.Pod, object)).toEqual(once);
  });

  it.each([['a/b:1', '1'], ['a:5000/b', ''], ['b', ''], ['x@sha256:1', 'digest']])('imageTag(%s) = %j', (image, tag) => {
    expect(imageTag(image)).toBe(tag);
  });
});
