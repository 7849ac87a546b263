import { describe, expect, it } from 'vitest';
import { Deployment } from '../../proto/gen/skiff/v1/apps.js';
import { Pod, Service } from '../../proto/gen/skiff/v1/core.js';
import { conditionMet, portsText, serviceState, settled, type ServiceSnapshot } from './status.js';

const pod = (phase: string, ready: boolean, exitCode?: number): Pod => Pod.fromPartial({
  metadata: { name: `p-${Math.random()}` },
  status: {
    phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    containerStatuses: exitCode === undefined ? [] : [{ name: 'main', state: { terminated: { exitCode } } }],
  },
});
const deploy = (replicas: number, ready: number, updated = ready): Deployment =>
  Deployment.fromPartial({ spec: { replicas }, status: { readyReplicas: ready, updatedReplicas: updated } });
const snap = (over: Partial<ServiceSnapshot>): ServiceSnapshot => ({ name: 'db', kind: 'Deployment', pods: [], services: [], ...over });

describe('depends_on conditions', () => {
  it.each<[string, ServiceSnapshot, boolean, boolean]>([
    ['nothing yet', snap({}), false, false],
    ['a pod running, not ready', snap({ deployment: deploy(1, 0, 1), pods: [pod('Running', false)] }), true, false],
    ['all replicas ready', snap({ deployment: deploy(2, 2), pods: [pod('Running', true), pod('Running', true)] }), true, true],
    ['one of two ready', snap({ deployment: deploy(2, 1), pods: [pod('Running', true), pod('Running', false)] }), true, false],
  ])('%s: started %s, healthy %s', (_n, s, started, healthy) => {
    expect(conditionMet('service_started', s)).toBe(started);
    expect(conditionMet('service_healthy', s)).toBe(healthy);
  });

  it('service_completed_successfully: waits, holds on Succeeded, throws on Failed', () => {
    expect(conditionMet('service_completed_successfully', snap({ kind: 'Pod', pods: [pod('Running', false)] }))).toBe(false);
    expect(conditionMet('service_completed_successfully', snap({ kind: 'Pod', pods: [pod('Succeeded', false, 0)] }))).toBe(true);
    expect(() => conditionMet('service_completed_successfully', snap({ kind: 'Pod', pods: [pod('Failed', false, 3)] }))).toThrow('service "db" did not complete successfully: failed (3)');
  });

  it('settled: a rolled-out Deployment, or a finished one-shot', () => {
    expect(settled(snap({ deployment: deploy(2, 2), pods: [pod('Running', true), pod('Running', true)] }))).toBe(true);
    expect(settled(snap({ deployment: deploy(2, 2, 1), pods: [pod('Running', true), pod('Running', true)] }))).toBe(false);
    expect(serviceState(snap({ kind: 'Pod', pods: [pod('Succeeded', false, 0)] })).text).toBe('exited (0)');
  });
});

describe('portsText', () => {
  it('one entry per LoadBalancer port and ingress list, like docker compose ps', () => {
    const lb = Service.fromPartial({
      spec: { type: 'LoadBalancer', ports: [{ port: 8000, protocol: 'TCP', targetPort: { type: 0, intVal: 5000, strVal: '' } }] },
      status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] } },
    });
    const cluster = Service.fromPartial({ spec: { type: 'ClusterIP', ports: [{ port: 6379, protocol: 'TCP' }] } });
    expect(portsText([cluster, lb])).toBe('10.0.0.1,10.0.0.2:8000->5000/tcp');
  });
});
