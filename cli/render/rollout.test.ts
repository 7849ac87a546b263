import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../proto/api/manifest.js';
import { evaluateRollout, crashLoop } from './rollout.js';
import { crashLooping, deployment, pod, replicaSet, runningReady } from '../testing/objects.js';

const done: JsonObject = { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3,
  conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }, { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }] };

describe('evaluateRollout', () => {
  it('waits for the deployment to exist', () => {
    expect(evaluateRollout('web', { deployment: undefined, replicaSets: [], pods: [] }).phase).toBe('waiting');
  });

  it('waits until the controller has observed the new generation', () => {
    const d = deployment('web', { generation: 2, status: done });
    const s = evaluateRollout('web', { deployment: d, replicaSets: [], pods: [] });
    expect(s).toMatchObject({ phase: 'waiting', message: 'Waiting for deployment spec update to be observed...' });
  });

  it.each([
    ['updated below desired', { ...done, updatedReplicas: 1 }, '1 out of 3 new replicas have been updated'],
    ['old replicas still running', { ...done, replicas: 5 }, '2 old replicas are pending termination'],
    ['updated but not available', { ...done, availableReplicas: 2 }, '2 of 3 updated replicas are available'],
    ['counts right but no NewReplicaSetAvailable yet', { ...done, conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }] }, 'the Progressing condition is ReplicaSetUpdated'],
  ])('waits when %s', (_n, status, text) => {
    const s = evaluateRollout('web', { deployment: deployment('web', { status }), replicaSets: [], pods: [] });
    expect(s.phase).toBe('waiting');
    expect(s.message).toContain(text);
  });

  it('completes like kubectl when all counts match and the new ReplicaSet is available', () => {
    const d = deployment('web', { status: done });
    const rs = replicaSet('web-abc', d, 1, { status: { replicas: 3, readyReplicas: 3, availableReplicas: 3 } });
    const s = evaluateRollout('web', { deployment: d, replicaSets: [rs], pods: [] });
    expect(s).toMatchObject({ phase: 'complete', message: 'deployment "web" successfully rolled out' });
    expect(s.replicaSets).toEqual([{ name: 'web-abc', revision: 1, isNew: true, desired: 3, current: 3, ready: 3, available: 3 }]);
  });

  it('fails on ProgressDeadlineExceeded', () => {
    const status = { ...done, availableReplicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-def" has timed out progressing.' }] };
    const s = evaluateRollout('web', { deployment: deployment('web', { status }), replicaSets: [], pods: [] });
    expect(s.phase).toBe('failed');
    expect(s.message).toBe('deployment "web" exceeded its progress deadline: ReplicaSet "web-def" has timed out progressing.');
  });

  it('fails early, naming the pod, when a pod of the new ReplicaSet crash-loops', () => {
    const d = deployment('web', { revision: '2', status: { ...done, updatedReplicas: 1, availableReplicas: 3, replicas: 4 } });
    const old = replicaSet('web-old', d, 1);
    const neu = replicaSet('web-new', d, 2, { replicas: 1 });
    const s = evaluateRollout('web', {
      deployment: d,
      replicaSets: [old, neu],
      pods: [runningReady('web-old-a', { uid: 'uid-web-old', name: 'web-old' }), crashLooping('web-new-x', { uid: 'uid-web-new', name: 'web-new' })],
    });
    expect(s.phase).toBe('failed');
    expect(s.message).toBe('deployment "web" rollout failed: pod web-new-x of ReplicaSet web-new: container app is crash-looping (CrashLoopBackOff, exit 1 Error, 3 restarts)');
    expect(s.notReadyPods).toEqual([{ name: 'web-new-x', replicaSet: 'web-new', why: 'CrashLoopBackOff (exit 1)' }]);
  });

  it('does not fail for a crash-looping pod of an old ReplicaSet', () => {
    const d = deployment('web', { revision: '2', status: { ...done, updatedReplicas: 1 } });
    const s = evaluateRollout('web', {
      deployment: d,
      replicaSets: [replicaSet('web-old', d, 1), replicaSet('web-new', d, 2)],
      pods: [crashLooping('web-old-a', { uid: 'uid-web-old', name: 'web-old' })],
    });
    expect(s.phase).toBe('waiting');
  });

  it('counts two restarts as a crash loop even before the CrashLoopBackOff reason', () => {
    const p = pod('p', { status: { containerStatuses: [{ name: 'app', restartCount: 2, state: { running: {} }, lastState: { terminated: { exitCode: 2 } } }] } });
    expect(crashLoop(p)).toBe('container app is crash-looping (restarting, exit 2, 2 restarts)');
    const once = pod('p', { status: { containerStatuses: [{ name: 'app', restartCount: 1, state: { running: {} } }] } });
    expect(crashLoop(once)).toBeUndefined();
  });
});
