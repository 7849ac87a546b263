// get and describe of Services and EndpointSlices, as kubectl prints them.
import { describe, expect, it } from 'vitest';
import { KINDS } from '../../proto/api/kinds.js';
import { Service } from '../../proto/gen/skiff/v1/core.js';
import { EndpointSlice } from '../../proto/gen/skiff/v1/discovery.js';
import { buildTable } from '../../proto/api/columns/columns.js';
import { describeObject } from './describe.js';
import { formatTable } from './table.js';
import { NOW } from '../testing/objects.js';

const created = new Date(NOW - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const opts = { wide: false, withNamespace: false, now: NOW };

const web = Service.fromPartial({
  metadata: { name: 'web', namespace: 'default', creationTimestamp: created },
  spec: {
    type: 'NodePort', clusterIP: '10.96.12.3', clusterIPs: ['10.96.12.3'], selector: { app: 'web', tier: 'front' }, sessionAffinity: 'None',
    ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', externalTrafficPolicy: 'Cluster',
    ports: [
      { name: 'http', protocol: 'TCP', port: 80, targetPort: { type: 1, intVal: 0, strVal: 'http' }, nodePort: 30080 },
      { name: 'dns', protocol: 'UDP', port: 53, targetPort: { type: 0, intVal: 5353, strVal: '' }, nodePort: 30053 },
    ],
  },
});
const headless = Service.fromPartial({
  metadata: { name: 'db', namespace: 'default', creationTimestamp: created },
  spec: { type: 'ClusterIP', clusterIP: 'None', ports: [{ protocol: 'TCP', port: 5432 }] },
});

const slice = (name: string, port: number, addrs: [string, boolean][]): EndpointSlice => EndpointSlice.fromPartial({
  metadata: { name, namespace: 'default', creationTimestamp: created },
  addressType: 'IPv4',
  ports: [{ name: 'http', protocol: 'TCP', port }],
  endpoints: addrs.map(([a, ready]) => ({ addresses: [a], conditions: { ready, serving: ready, terminating: false } })),
});

describe('services', () => {
  it('get svc: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE, wide adds SELECTOR', () => {
    expect(formatTable(buildTable(KINDS.Service, [web, headless], opts))).toBe([
      'NAME   TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)                     AGE',
      'db     ClusterIP   None         <none>        5432/TCP                    60s',
      'web    NodePort    10.96.12.3   <none>        80:30080/TCP,53:30053/UDP   60s',
    ].join('\n'));
    const wide = buildTable(KINDS.Service, [web, headless], { ...opts, wide: true });
    expect(wide.rows.map((r) => r[6])).toEqual(['<none>', 'app=web,tier=front']);
  });

  it('get endpointslices: NAME ADDRESSTYPE PORTS ENDPOINTS AGE, three addresses then "+ N more..."', () => {
    const many = slice('web-abcde', 8080, [['10.88.0.2', true], ['10.88.0.3', true], ['10.88.0.4', false], ['10.88.0.5', true]]);
    const empty = EndpointSlice.fromPartial({ metadata: { name: 'db-xyz12', creationTimestamp: created }, addressType: 'IPv4' });
    expect(formatTable(buildTable(KINDS.EndpointSlice, [many, empty], opts))).toBe([
      'NAME        ADDRESSTYPE   PORTS     ENDPOINTS                                   AGE',
      'db-xyz12    IPv4          <unset>   <unset>                                     60s',
      'web-abcde   IPv4          8080      10.88.0.2,10.88.0.3,10.88.0.4 + 1 more...   60s',
    ].join('\n'));
  });

  it('describe svc lists the ready endpoints of each port', () => {
    const text = describeObject(KINDS.Service, web, { events: [], endpointSlices: [slice('web-abcde', 8080, [['10.88.0.2', true], ['10.88.0.3', false]])], now: NOW });
    expect(text).toContain('Selector:         app=web,tier=front');
    expect(text).toContain('Type:             NodePort');
    expect(text).toContain('IP:               10.96.12.3');
    expect(text).toContain('Port:             http  80/TCP\nTargetPort:       http/TCP\nNodePort:         http  30080/TCP\nEndpoints:        10.88.0.2:8080\n');
    expect(text).toContain('Port:             dns  53/UDP\nTargetPort:       5353/UDP\nNodePort:         dns  30053/UDP\nEndpoints:        <none>\n');
    expect(text).toContain('Session Affinity: None');
  });
});
