import { describe, expect, it } from 'vitest';
import { PodStatus } from '../proto/gen/skiff/v1/core.js';
import { podFixture } from '../test/helpers/objects.js';
import { computePodStatus, podPhase, statusEqual, waiting, type ContainerView } from './pod-status.js';

const c = (name: string, over: Partial<ContainerView>): ContainerView => ({
  name, image: 'busybox:1', imageID: 'sha256:x', containerID: '', state: waiting('ContainerCreating'),
  ready: false, restartCount: 0, ...over,
});
const running = { running: { startedAt: '2026-01-01T00:00:01Z' } };
const exited = (exitCode: number) => ({
  terminated: { exitCode, signal: 0, reason: exitCode ? 'Error' : 'Completed', message: '', startedAt: '', finishedAt: '', containerID: '' },
});

describe('podPhase', () => {
  const cases: [string, string, ContainerView[], string][] = [
    ['a container still creating: Pending', 'Always', [c('a', { state: running }), c('b', {})], 'Pending'],
    ['all running: Running', 'Always', [c('a', { state: running })], 'Running'],
    ['crash-looping under Always: Running', 'Always', [c('a', { state: waiting('CrashLoopBackOff'), lastState: exited(1) })], 'Running'],
    ['all exited 0 under Never: Succeeded', 'Never', [c('a', { state: exited(0) })], 'Succeeded'],
    ['one exited 1 under Never: Failed', 'Never', [c('a', { state: exited(0) }), c('b', { state: exited(1) })], 'Failed'],
    ['exited 0 under OnFailure: Succeeded', 'OnFailure', [c('a', { state: exited(0) })], 'Succeeded'],
    ['failed under OnFailure, restarting: Running', 'OnFailure', [c('a', { state: waiting('CrashLoopBackOff'), lastState: exited(2) })], 'Running'],
    ['no containers: Pending', 'Always', [], 'Pending'],
  ];
  for (const [name, policy, cs, want] of cases) it(name, () => expect(podPhase(policy, cs)).toBe(want));
});

describe('computePodStatus', () => {
  const pod = podFixture('web', { nodeName: 'n1' });
  const base = { pod, podIP: '10.88.0.5', hostIP: '192.168.1.2', startTime: '2026-01-01T00:00:00Z' };

  it('reports Running and Ready with the pod IP when every container is ready', () => {
    const s = computePodStatus({ ...base, now: 'T1', containers: [c('app', { state: running, ready: true, started: true, containerID: 'fake://1' })] });
    expect(s.phase).toBe('Running');
    expect(s.podIP).toBe('10.88.0.5');
    expect(Object.fromEntries(s.conditions.map((x) => [x.type, x.status]))).toEqual({
      Initialized: 'True', Ready: 'True', ContainersReady: 'True', PodScheduled: 'True',
    });
    expect(s.containerStatuses[0]).toMatchObject({ name: 'app', ready: true, started: true, containerID: 'fake://1' });
  });

  it('moves lastTransitionTime only when a condition changes', () => {
    const s1 = computePodStatus({ ...base, now: 'T1', containers: [c('app', { state: running, ready: false })] });
    const ready1 = s1.conditions.find((x) => x.type === 'Ready')!;
    expect(ready1).toMatchObject({ status: 'False', reason: 'ContainersNotReady', lastTransitionTime: 'T1' });
    const withS1 = { ...pod, status: s1 };
    const s2 = computePodStatus({ ...base, pod: withS1, now: 'T2', containers: [c('app', { state: running, ready: false })] });
    expect(statusEqual(s1, s2)).toBe(true);
    const s3 = computePodStatus({ ...base, pod: withS1, now: 'T3', containers: [c('app', { state: running, ready: true })] });
    expect(s3.conditions.find((x) => x.type === 'Ready')?.lastTransitionTime).toBe('T3');
    expect(s3.conditions.find((x) => x.type === 'PodScheduled')?.lastTransitionTime).toBe('T1');
    expect(statusEqual(s2, s3)).toBe(false);
  });

  it('marks a finished pod not ready with PodCompleted', () => {
    const p = podFixture('job', { nodeName: 'n1' });
    p.spec!.restartPolicy = 'Never';
    const s = computePodStatus({ ...base, pod: p, now: 'T', containers: [c('app', { state: exited(0) })] });
    expect(s.phase).toBe('Succeeded');
    expect(s.conditions.find((x) => x.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
  });

  it('treats an empty status like none', () => {
    expect(statusEqual(undefined, PodStatus.fromPartial({}))).toBe(true);
  });
});

describe('init containers', () => {
  const pod = podFixture('web', { nodeName: 'n1' });
  const base = { pod, podIP: '10.88.0.5', hostIP: '192.168.1.2', startTime: '2026-01-01T00:00:00Z', now: 'T1' };
  const app = c('app', { state: waiting('PodInitializing') });
  const phase = (policy: string, inits: ContainerView[], apps: ContainerView[] = [app]) => podPhase(policy, apps, inits);

  it.each<[string, string, ContainerView[], string]>([
    ['one running: Pending', 'Always', [c('i1', { state: running })], 'Pending'],
    ['first done, second not started: Pending', 'Always', [c('i1', { state: exited(0) }), c('i2', { state: waiting('PodInitializing') })], 'Pending'],
    ['failed and backing off under OnFailure: Pending', 'OnFailure', [c('i1', { state: waiting('CrashLoopBackOff'), lastState: exited(1) })], 'Pending'],
    ['failed under Never: Failed', 'Never', [c('i1', { state: exited(2) })], 'Failed'],
    ['all done, app running: Running', 'Always', [c('i1', { state: exited(0) })], 'Running'],
  ])('%s', (_name, policy, inits, want) => {
    const apps = want === 'Running' ? [c('app', { state: running })] : [app];
    expect(phase(policy, inits, apps)).toBe(want);
  });

  it('Initialized is False naming the incomplete ones, True once all exited 0; statuses listed', () => {
    const s = computePodStatus({ ...base, containers: [app], initContainers: [c('i1', { state: exited(0), ready: true }), c('i2', { state: running })] });
    const init = s.conditions.find((x) => x.type === 'Initialized')!;
    expect(init).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [i2]' });
    expect(s.initContainerStatuses.map((x) => [x.name, x.ready])).toEqual([['i1', true], ['i2', false]]);
    expect(s.phase).toBe('Pending');
    const done = computePodStatus({ ...base, containers: [c('app', { state: running, ready: true })], initContainers: [c('i1', { state: exited(0), ready: true })] });
    expect(done.conditions.find((x) => x.type === 'Initialized')?.status).toBe('True');
    expect(done.phase).toBe('Running');
  });

  it('a final phase (deadline, eviction) wins over the containers, with its reason and message', () => {
    const s = computePodStatus({
      ...base, containers: [c('app', { state: running, ready: true })],
      final: { phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' },
    });
    expect(s).toMatchObject({ phase: 'Failed', reason: 'DeadlineExceeded' });
    expect(s.conditions.find((x) => x.type === 'Ready')?.status).toBe('False');
  });
});
