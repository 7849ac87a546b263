import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { until } from '../../test/helpers/wait.js';
import type { ApiError } from '../../proto/api/errors.js';
import { KINDS, wrap } from '../../proto/api/kinds.js';
import type { WatchEvent } from '../../proto/gen/skiff/v1/api.js';
import { crashLooping, NOW, pod, runningReady } from '../testing/objects.js';
import { GetWatch } from './GetWatch.js';

/** Waits until the screen shows text (Ink throttles renders, so a busy machine is slower). */
const shows = (ui: { lastFrame: () => string | undefined }, text: string): Promise<void> =>
  until(() => (ui.lastFrame() ?? '').includes(text), 10_000, `frame with "${text}"`);

describe('GetWatch view', () => {
  it('keeps one table current: rows added, changed in place and removed', async () => {
    let push: ((ev: WatchEvent) => void) | undefined;
    let end: ((e: ApiError | undefined) => void) | undefined;
    const ends: (ApiError | undefined)[] = [];
    const ui = render(
      <GetWatch info={KINDS.Pod} wide={false} withNamespace={false} now={() => NOW} tickMs={0}
        subscribe={(onEvent, onEnd) => { push = onEvent; end = onEnd; return () => undefined; }}
        onEnd={(e) => ends.push(e)} />,
    );
    await shows(ui, 'No pods yet.');
    // The view subscribes in an effect after its first render; events pushed before are lost.
    await until(() => push !== undefined, 10_000, 'subscription');
    const ev = (type: string, p: ReturnType<typeof pod>): WatchEvent => ({ type, object: wrap('Pod', p), resourceVersion: '1' });
    push?.(ev('ADDED', pod('web-1', { status: { phase: 'Pending', containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ContainerCreating' } } }] } })));
    push?.(ev('ADDED', runningReady('web-2')));
    await shows(ui, '(2 events)');
    expect(ui.lastFrame()).toContain('web-1   0/1     ContainerCreating');
    expect(ui.lastFrame()).toContain('web-2   1/1     Running');
    push?.(ev('MODIFIED', crashLooping('web-1', { uid: 'u', name: 'rs' })));
    push?.(ev('DELETED', runningReady('web-2')));
    await shows(ui, '(4 events)');
    const frame = ui.lastFrame() ?? '';
    expect(frame).toContain('web-1   0/1     CrashLoopBackOff (exit 1)   3 (20s ago)');
    expect(frame).not.toContain('web-2');
    expect(frame).not.toContain('ContainerCreating');
    expect(frame).toContain('(4 events)');
    end?.(undefined);
    await until(() => ends.length > 0, 10_000, 'the end callback');
    expect(ends).toEqual([undefined]);
  });
});
