import { describe, expect, it } from 'vitest';
import { fromManifest, type JsonObject } from '../../proto/api/manifest.js';
import type { EndpointSlice } from '../../proto/gen/skiff/v1/discovery.js';
import type { Service } from '../../proto/gen/skiff/v1/core.js';
import { serviceSnapshot } from './service-snapshot.js';
import { servicePortKey } from './snapshot.js';

const svc = (name: string, spec: JsonObject): Service =>
  fromManifest({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec }).object as Service;
const slice = (name: string, service: string, body: JsonObject): EndpointSlice =>
  fromManifest({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } }, ...body,
  }).object as EndpointSlice;

describe('serviceSnapshot', () => {
  it('maps services and flattens every slice of a service per named port', () => {
    const web = svc('web', {
      type: 'NodePort', clusterIP: '10.96.0.10', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
      ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 }, { name: 'dns', protocol: 'UDP', port: 53 }],
    });
    const s = serviceSnapshot([web], [
      slice('web-a', 'web', {
        ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
        endpoints: [
          { addresses: ['10.88.0.3'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1' },
          { addresses: ['10.88.0.2'], conditions: { ready: false, serving: true, terminating: true }, nodeName: 'n2' },
        ],
      }),
      slice('web-b', 'web', { ports: [{ name: 'http', protocol: 'TCP', port: 9090 }], endpoints: [{ addresses: ['10.88.1.5'] }] }),
      slice('other', 'db', { ports: [{ name: 'http', protocol: 'TCP', port: 1 }], endpoints: [{ addresses: ['10.0.0.1'] }] }),
    ]);
    expect(s.services).toEqual([{
      namespace: 'shop', name: 'web', type: 'NodePort', clusterIP: '10.96.0.10', sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 60,
      ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 }, { name: 'dns', protocol: 'UDP', port: 53, nodePort: undefined }],
    }]);
    expect(s.endpoints.get(servicePortKey('shop', 'web', 'http'))).toEqual([
      { address: '10.88.0.2', port: 8080, ready: false, serving: true, terminating: true, nodeName: 'n2', hostname: undefined },
      { address: '10.88.0.3', port: 8080, ready: true, serving: true, terminating: false, nodeName: 'n1', hostname: undefined },
      // No conditions: unknown, read as ready and serving.
      { address: '10.88.1.5', port: 9090, ready: true, serving: true, terminating: false, nodeName: '', hostname: undefined },
    ]);
    // The UDP port has no slice port of that name and protocol: no endpoints.
    expect(s.endpoints.has(servicePortKey('shop', 'web', 'dns'))).toBe(false);
  });

  it('lists a headless service without ports under port name ""', () => {
    const s = serviceSnapshot([svc('db', { clusterIP: 'None', selector: { app: 'db' } })], [
      slice('db-a', 'db', { endpoints: [{ addresses: ['10.88.0.7'], conditions: { ready: true }, hostname: 'db-0' }] }),
    ]);
    expect(s.endpoints.get(servicePortKey('shop', 'db', ''))).toEqual([
      { address: '10.88.0.7', port: 0, ready: true, serving: true, terminating: false, nodeName: '', hostname: 'db-0' },
    ]);
  });
});
