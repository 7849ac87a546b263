import { describe, expect, it } from 'vitest';
import { podNotReadyWhy, podReady, podRestarts, podStatus } from '../../proto/api/columns/pod-status.js';
import { ago, crashLooping, NOW, pod, runningReady } from '../testing/objects.js';

describe('pod STATUS column (kubectl printPod)', () => {
  it.each([
    ['a new pod shows its phase', pod('p', { status: { phase: 'Pending' } }), 'Pending'],
    ['no status at all is Pending', pod('p'), 'Pending'],
    ['a running ready pod', runningReady('p'), 'Running'],
    ['a waiting reason beats the phase', pod('p', { status: { phase: 'Pending', containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ContainerCreating' } } }] } }), 'ContainerCreating'],
    ['image pull errors show', pod('p', { status: { phase: 'Pending', containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ErrImagePull' } } }] } }), 'ErrImagePull'],
    ['crash loops show the last exit code', crashLooping('p', { uid: 'u', name: 'rs' }), 'CrashLoopBackOff (exit 1)'],
    ['a terminated reason shows', pod('p', { status: { phase: 'Failed', containerStatuses: [{ name: 'app', state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }] } }), 'OOMKilled'],
    ['a terminated container without reason shows its exit code', pod('p', { status: { phase: 'Failed', containerStatuses: [{ name: 'app', state: { terminated: { exitCode: 3 } } }] } }), 'ExitCode:3'],
    ['a signal shows', pod('p', { status: { phase: 'Failed', containerStatuses: [{ name: 'app', state: { terminated: { exitCode: 0, signal: 9 } } }] } }), 'Signal:9'],
    ['deletionTimestamp shows Terminating', pod('p', { metadata: { deletionTimestamp: ago(1000) }, status: { phase: 'Running' } }), 'Terminating'],
    ['init containers in progress', pod('p', { spec: { initContainers: [{ name: 'i', image: 'x' }] }, status: { phase: 'Pending', initContainerStatuses: [{ name: 'i', state: { running: {} } }] } }), 'Init:0/1'],
    ['a failing init container', pod('p', { spec: { initContainers: [{ name: 'i', image: 'x' }] }, status: { phase: 'Pending', initContainerStatuses: [{ name: 'i', restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 2 } } }] } }), 'Init:CrashLoopBackOff (exit 2)'],
    ['a pod failed by its deadline shows the reason, not its stopped containers', pod('p', { status: { phase: 'Failed', reason: 'DeadlineExceeded', containerStatuses: [{ name: 'app', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] } }), 'DeadlineExceeded'],
    ['an evicted pod shows Evicted', pod('p', { status: { phase: 'Failed', reason: 'Evicted', containerStatuses: [{ name: 'app', state: { terminated: { exitCode: 137, reason: 'Error' } } }] } }), 'Evicted'],
    ['a failed init container under Never', pod('p', { spec: { initContainers: [{ name: 'i', image: 'x' }] }, status: { phase: 'Failed', initContainerStatuses: [{ name: 'i', state: { terminated: { exitCode: 1, reason: 'Error' } } }] } }), 'Init:Error'],
  ])('%s', (_name, p, want) => {
    expect(podStatus(p)).toBe(want);
  });

  it('READY counts ready containers of all containers', () => {
    expect(podReady(runningReady('p'))).toBe('1/1');
    expect(podReady(crashLooping('p', { uid: 'u', name: 'rs' }))).toBe('0/1');
  });

  it('RESTARTS adds when the last restart was, like kubectl 1.22+', () => {
    expect(podRestarts(runningReady('p'), NOW)).toBe('0');
    expect(podRestarts(crashLooping('p', { uid: 'u', name: 'rs' }, 4), NOW)).toBe('4 (20s ago)');
  });

  it('says why a running pod is not ready', () => {
    const p = pod('p', { status: { phase: 'Running', containerStatuses: [{ name: 'app', ready: false, state: { running: {} } }] } });
    expect(podNotReadyWhy(p)).toBe('Running, not ready: app');
  });
});
