import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { until } from '../../test/helpers/wait.js';
import type { ApiError } from '../../proto/api/errors.js';
import type { RolloutSnapshot } from '../render/rollout.js';
import { crashLooping, deployment, replicaSet, runningReady } from '../testing/objects.js';
import { bar, RolloutStatus, type RolloutResult } from './RolloutStatus.js';

/** A hand-driven snapshot source: the test pushes what the three watches would deliver. */
function feed() {
  let push: ((s: RolloutSnapshot) => void) | undefined;
  let end: ((e: ApiError | undefined) => void) | undefined;
  let stopped = false;
  return {
    subscribe: (onSnap: (s: RolloutSnapshot) => void, onEnd: (e: ApiError | undefined) => void) => {
      push = onSnap;
      end = onEnd;
      return () => {
        stopped = true;
      };
    },
    push: (s: RolloutSnapshot) => push?.(s),
    end: (e?: ApiError) => end?.(e),
    get stopped() {
      return stopped;
    },
    /** The view subscribes in an effect, after its first render; pushing before that is lost. */
    get subscribed() {
      return push !== undefined;
    },
  };
}

type Ui = { lastFrame: () => string | undefined };
/** Waits until the screen shows text (Ink throttles renders, so a busy machine is slower). */
const shows = (ui: Ui, text: string): Promise<void> => until(() => (ui.lastFrame() ?? '').includes(text), 10_000, `frame with "${text}"`);

describe('bar', () => {
  it('fills in proportion and caps at full', () => {
    expect(bar(0, 4, 8)).toBe('░░░░░░░░');
    expect(bar(2, 4, 8)).toBe('████░░░░');
    expect(bar(9, 4, 8)).toBe('████████');
  });
});

describe('RolloutStatus view', () => {
  const progressing = { observedGeneration: 2, replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3 };

  it('shows bars per ReplicaSet and the pods that are not ready, then exits 1 naming a crash-looping pod', async () => {
    const f = feed();
    const results: RolloutResult[] = [];
    const ui = render(<RolloutStatus name="web" subscribe={f.subscribe} onDone={(r) => results.push(r)} barWidth={10} />);
    await shows(ui, 'Waiting for deployment "web" to exist...');

    await until(() => f.subscribed, 10_000, 'subscription');
    const d = deployment('web', { generation: 2, revision: '2', status: progressing });
    const old = replicaSet('web-old', d, 1, { status: { replicas: 3, readyReplicas: 3, availableReplicas: 3 } });
    const neu = replicaSet('web-new', d, 2, { replicas: 1, status: { replicas: 1 } });
    const newPod = runningReady('web-new-x', { uid: 'uid-web-new', name: 'web-new' });
    newPod.status = { ...newPod.status!, conditions: [], containerStatuses: [{ ...newPod.status!.containerStatuses[0]!, ready: false }] };
    f.push({ deployment: d, replicaSets: [old, neu], pods: [newPod] });
    await shows(ui, 'web-new-x: Running, not ready: app');
    const frame = ui.lastFrame() ?? '';
    expect(frame).toContain('deployment/web: 1/3 updated, 3 ready, 3 available');
    expect(frame).toContain('web-new revision 2 (new)');
    expect(frame).toContain('web-old revision 1 (old)');
    // Scaled to the Deployment's 3 replicas: the new set holds 1 of 3, the old one 3 of 3.
    expect(frame).toMatch(/desired\s+███░{7} 1\/3/);
    expect(frame).toMatch(/ready\s+░{10} 0\/3/);
    expect(frame).toMatch(/available\s+█{10} 3\/3/);
    expect(frame).toContain('web-new-x: Running, not ready: app');
    expect(frame).toContain('1 out of 3 new replicas have been updated');
    expect(results).toEqual([]);

    f.push({ deployment: d, replicaSets: [old, neu], pods: [crashLooping('web-new-x', { uid: 'uid-web-new', name: 'web-new' })] });
    await shows(ui, 'rollout failed: pod web-new-x');
    expect(results).toEqual([{ code: 1, message: 'deployment "web" rollout failed: pod web-new-x of ReplicaSet web-new: container app is crash-looping (CrashLoopBackOff, exit 1 Error, 3 restarts)' }]);
    expect(ui.lastFrame()).toContain('rollout failed: pod web-new-x');
    expect(ui.lastFrame()).toContain('web-new-x: CrashLoopBackOff (exit 1)');
    expect(f.stopped).toBe(true);
  });

  it('exits 0 when the rollout completes', async () => {
    const f = feed();
    const results: RolloutResult[] = [];
    const ui = render(<RolloutStatus name="web" subscribe={f.subscribe} onDone={(r) => results.push(r)} />);
    const d = deployment('web', {
      status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }] },
    });
    await until(() => f.subscribed, 10_000, 'subscription');
    f.push({ deployment: d, replicaSets: [replicaSet('web-abc', d, 1, { status: { replicas: 3, readyReplicas: 3, availableReplicas: 3 } })], pods: [] });
    await shows(ui, 'successfully rolled out');
    expect(results).toEqual([{ code: 0, message: 'deployment "web" successfully rolled out' }]);
    expect(ui.lastFrame()).toContain('successfully rolled out');
    expect(ui.lastFrame()).toMatch(/available\s+█{20} 3\/3/);
  });

  it('exits 1 when the watch fails or the timeout passes', async () => {
    const f = feed();
    const results: RolloutResult[] = [];
    render(<RolloutStatus name="web" subscribe={f.subscribe} onDone={(r) => results.push(r)} timeoutMs={30} />);
    await until(() => results.length > 0, 10_000, 'the timeout');
    expect(results).toEqual([{ code: 1, message: 'timed out waiting for deployment "web" to roll out' }]);
    f.end();
    expect(results).toHaveLength(1);
  });
});
