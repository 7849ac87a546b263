import { describe, expect, it } from 'vitest';
import { pickPod } from './logs.js';
import { ago, crashLooping, pod, runningReady } from '../testing/objects.js';

describe('logs: the pod picked for deploy/NAME', () => {
  it('prefers a running, ready pod that is not terminating', () => {
    const terminating = runningReady('a-terminating');
    terminating.metadata!.deletionTimestamp = ago(1000);
    const picked = pickPod([pod('b-pending', { status: { phase: 'Pending' } }), terminating, crashLooping('c-crash', { uid: 'u', name: 'rs' }), runningReady('d-ready')]);
    expect(picked?.metadata?.name).toBe('d-ready');
  });
  it('takes the newest among equals and nothing from nothing', () => {
    const older = runningReady('old');
    older.metadata!.creationTimestamp = ago(600_000);
    expect(pickPod([older, runningReady('new')])?.metadata?.name).toBe('new');
    expect(pickPod([])).toBeUndefined();
  });
});
