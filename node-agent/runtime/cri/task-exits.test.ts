import { describe, expect, it } from 'vitest';
import { TaskExit } from '../../../proto/gen/containerd/events/task.js';
import type { Envelope } from '../../../proto/gen/containerd/services/events/v1/events.js';
import { CRI_NAMESPACE, initExitOf, TASK_EXIT_TOPIC } from './task-exits.js';

function envelope(exit: Partial<TaskExit>, over: Partial<Envelope> = {}): Envelope {
  return {
    namespace: CRI_NAMESPACE,
    topic: TASK_EXIT_TOPIC,
    event: { typeUrl: 'containerd.events.TaskExit', value: Buffer.from(TaskExit.encode(TaskExit.fromPartial(exit)).finish()) },
    ...over,
  };
}

describe('initExitOf', () => {
  it('names the container whose init process exited', () => {
    expect(initExitOf(envelope({ containerId: 'c1', id: 'c1', pid: 42, exitStatus: 3 }))).toBe('c1');
    expect(initExitOf(envelope({ containerId: 'c1', id: '' }))).toBe('c1');
  });

  it('ignores exec processes, other namespaces and other topics', () => {
    expect(initExitOf(envelope({ containerId: 'c1', id: 'exec-7' }))).toBeUndefined();
    expect(initExitOf(envelope({ containerId: 'c1', id: 'c1' }, { namespace: 'moby' }))).toBeUndefined();
    expect(initExitOf(envelope({ containerId: 'c1', id: 'c1' }, { topic: '/tasks/start' }))).toBeUndefined();
    expect(initExitOf({ namespace: CRI_NAMESPACE, topic: TASK_EXIT_TOPIC })).toBeUndefined();
  });
});
