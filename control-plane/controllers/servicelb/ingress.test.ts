import { describe, expect, it } from 'vitest';
import { Node, Service } from '../../../proto/gen/skiff/v1/core.js';
import { ingressFor, sameIngress } from './ingress.js';

const node = (name: string, ip: string, ready = true, deleting = false): Node => Node.fromPartial({
  metadata: { name, deletionTimestamp: deleting ? '2026-01-01T00:00:00Z' : '' },
  status: { addresses: [{ type: 'Hostname', address: name }, { type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const svc = (type: string): Service => Service.fromPartial({ metadata: { name: 'web', namespace: 'p' }, spec: { type, ports: [{ port: 8080 }] } });

describe('ingressFor', () => {
  it.each([
    ['ClusterIP gets none', svc('ClusterIP'), [node('a', '10.0.0.1')], []],
    ['NodePort gets none', svc('NodePort'), [node('a', '10.0.0.1')], []],
    ['LoadBalancer: every Ready node, numerically sorted', svc('LoadBalancer'), [node('b', '10.0.0.12'), node('a', '10.0.0.9')], ['10.0.0.9', '10.0.0.12']],
    ['NotReady and deleted nodes are left out', svc('LoadBalancer'), [node('a', '10.0.0.1', false), node('b', '10.0.0.2', true, true), node('c', '10.0.0.3')], ['10.0.0.3']],
    ['no Ready node: pending (empty)', svc('LoadBalancer'), [node('a', '10.0.0.1', false)], []],
  ])('%s', (_name, s, nodes, want) => {
    expect(ingressFor(s, nodes).map((i) => i.ip)).toEqual(want);
  });

  it('sameIngress compares in order', () => {
    expect(sameIngress([{ ip: 'a', hostname: '' }], [{ ip: 'a', hostname: '' }])).toBe(true);
    expect(sameIngress([{ ip: 'a', hostname: '' }], [])).toBe(false);
  });
});
