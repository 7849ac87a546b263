import { describe, expect, it } from 'vitest';
import { fullDeploymentDoc } from '../../test/helpers/objects.js';
import { ApiError } from './errors.js';
import { KINDS } from './kinds.js';
import { fromManifest, toManifest } from './manifest.js';
import type { Deployment } from '../gen/skiff/v1/apps.js';

function invalid(doc: unknown): ApiError {
  try {
    fromManifest(doc, 'app.yaml#1');
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('fromManifest', () => {
  it('reads every field of a Deployment and writes the same JSON back', () => {
    const doc = fullDeploymentDoc();
    const { info, object } = fromManifest(doc);
    expect(info.kind).toBe('Deployment');
    const d = object as Deployment;
    expect(d.spec?.replicas).toBe(0);
    expect(d.spec?.strategy?.rollingUpdate?.maxSurge).toEqual({ type: 1, intVal: 0, strVal: '50%' });
    expect(d.spec?.strategy?.rollingUpdate?.maxUnavailable).toEqual({ type: 0, intVal: 0, strVal: '' });
    expect(d.spec?.template?.spec?.terminationGracePeriodSeconds).toBe(0);
    // Zero-valued plain fields are omitted on output (as Kubernetes' omitempty); optional ones stay.
    const back = toManifest(info, d);
    const expected = structuredClone(doc) as { metadata: { annotations: Record<string, string> }; spec: { template: { spec: { containers: { env: { name: string; value?: string }[]; securityContext: Record<string, unknown> }[]; hostNetwork?: boolean } } } };
    delete expected.spec.template.spec.hostNetwork;
    delete expected.spec.template.spec.containers[0]!.env[1]!.value;
    expect(back).toEqual(expected);
  });

  it('names every unknown field and wrong type with its path and source', () => {
    const err = invalid({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', lables: { a: 'b' } },
      spec: { replicas: 'three', template: { spec: { containers: [{ name: 'a', image: 5, ports: [{ containerPort: 1.5 }] }] } } },
    });
    expect(err.code).toBe('Invalid');
    expect(err.causes.map((c) => `${c.source} ${c.field}`)).toEqual([
      'app.yaml#1 metadata.lables',
      'app.yaml#1 spec.replicas',
      'app.yaml#1 spec.template.spec.containers[0].image',
      'app.yaml#1 spec.template.spec.containers[0].ports[0].containerPort',
    ]);
    expect(err.causes[1]!.message).toContain('expected an integer');
  });

  it('lists the supported kinds for an unknown kind and rejects a wrong apiVersion', () => {
    const e1 = invalid({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'x' } });
    expect(e1.causes[0]!.message).toContain('apps/v1 Deployment');
    expect(e1.causes[0]!.message).toContain('v1 Service, discovery.k8s.io/v1 EndpointSlice');
    const e2 = invalid({ apiVersion: 'extensions/v1beta1', kind: 'Deployment', metadata: { name: 'x' } });
    expect(e2.causes[0]!.field).toBe('apiVersion');
    const e3 = invalid({ metadata: { name: 'x' } });
    expect(e3.causes.map((c) => c.field)).toEqual(['kind', 'apiVersion']);
  });

  it('reads and writes a Service and an EndpointSlice as Kubernetes shows them', () => {
    const svc = {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' },
      spec: {
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }, { name: 'admin', port: 81, targetPort: 'admin' }],
        selector: { app: 'web' }, type: 'NodePort', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
      },
    };
    const parsed = fromManifest(svc);
    expect(toManifest(parsed.info, parsed.object)).toEqual(svc);
    const slice = {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-abcde' }, addressType: 'IPv4',
      endpoints: [{ addresses: ['10.88.0.2'], conditions: { ready: false, serving: true, terminating: true }, targetRef: { kind: 'Pod', name: 'p' }, nodeName: 'n1' }],
      ports: [{ name: '', protocol: 'TCP', port: 8080 }],
    };
    const p2 = fromManifest(slice);
    // Pointer fields keep their zero values (ready: false, name: ""), as Kubernetes' JSON does.
    expect(toManifest(p2.info, p2.object)).toEqual(slice);
  });

  it('treats nulls as unset and rejects non-string label values', () => {
    const ok = fromManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: null }, spec: null });
    expect(ok.object.metadata?.labels).toEqual({});
    const err = invalid({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { version: 2 } } });
    expect(err.causes[0]!.field).toBe('metadata.labels[version]');
  });

  it('encodes and decodes through protobuf without loss', () => {
    const { object } = fromManifest(fullDeploymentDoc());
    const info = KINDS.Deployment;
    const bytes = info.codec.encode(object as Deployment).finish();
    expect(info.codec.decode(bytes)).toEqual(object);
  });
});
