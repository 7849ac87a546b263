import { describe, expect, it } from 'vitest';
import { KINDS } from '../../proto/api/kinds.js';
import { describeObject } from './describe.js';
import { crashLooping, deployment, event, node, NOW, replicaSet } from '../testing/objects.js';

describe('describe text', () => {
  it('summarises a Deployment with its ReplicaSets, conditions and events', () => {
    const d = deployment('web', {
      revision: '2',
      status: { replicas: 3, updatedReplicas: 1, availableReplicas: 2, unavailableReplicas: 1, conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'rolling' }] },
    });
    d.metadata!.annotations['kubectl.kubernetes.io/last-applied-configuration'] = '{"huge":"json"}';
    const text = describeObject(KINDS.Deployment, d, {
      events: [event('e1', 'ScalingReplicaSet', 5_000, 'Scaled up replica set web-new to 1')],
      replicaSets: [replicaSet('web-new', d, 2, { replicas: 1, status: { replicas: 1 } }), replicaSet('web-old', d, 1, { replicas: 2, status: { replicas: 2 } })],
      now: NOW,
    });
    expect(text).toMatch(/^Name:\s+web\nNamespace:\s+default\n/);
    expect(text).not.toContain('last-applied-configuration');
    expect(text).toMatch(/Replicas:\s+3 desired \| 1 updated \| 3 total \| 2 available \| 1 unavailable\n/);
    expect(text).toMatch(/Conditions:\n\s+Type\s+Status\s+Reason\s+Message\n\s+Progressing\s+True\s+ReplicaSetUpdated\s+rolling\n/);
    expect(text).toMatch(/OldReplicaSets:\s+web-old \(2\/2 replicas created\)\nNewReplicaSet:\s+web-new \(1\/1 replicas created\)\n/);
    expect(text).toMatch(/Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n\s+Normal\s+ScalingReplicaSet\s+5s\s+deployment-controller\s+Scaled up replica set web-new to 1\n$/);
  });

  it('shows a pod\'s container state, last state and restarts', () => {
    const text = describeObject(KINDS.Pod, crashLooping('web-x', { uid: 'u', name: 'web-new' }), { events: [], now: NOW });
    expect(text).toMatch(/Status:\s+CrashLoopBackOff \(exit 1\)\n/);
    expect(text).toMatch(/State:\s+Waiting\n\s+Reason: CrashLoopBackOff\n/);
    expect(text).toMatch(/Last State:\s+Terminated\n\s+Reason: Error\n\s+Exit Code: 1\n/);
    expect(text).toMatch(/Restart Count:\s+3\n/);
    expect(text).toMatch(/Controlled By:\s+ReplicaSet\/web-new\n/);
    expect(text).toMatch(/Events:\s+<none>\n$/);
  });

  it('shows a node\'s status, conditions and addresses', () => {
    const text = describeObject(KINDS.Node, node('n1', true, { unschedulable: true }), { events: [], now: NOW });
    expect(text).not.toContain('Namespace:');
    expect(text).toMatch(/Status:\s+Ready,SchedulingDisabled\n/);
    expect(text).toMatch(/Addresses:\s+InternalIP: 127\.0\.0\.1\n/);
  });
});
