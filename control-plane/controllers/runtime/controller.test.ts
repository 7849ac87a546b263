import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../proto/api/clock.js';
import { Controller, TerminalError } from './controller.js';
import { controllerRegistry } from './metrics.js';

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const m = await controllerRegistry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

describe('Controller runner', () => {
  it('retries failures with backoff, stops on success and on TerminalError', async () => {
    const clock = new ManualClock();
    const calls: string[] = [];
    let fails = 3;
    const c = new Controller({
      name: 'test-retry',
      clock,
      reconcile: (key) => {
        calls.push(key);
        if (key === 'bad') return Promise.reject(new TerminalError('cannot'));
        if (fails-- > 0) return Promise.reject(new Error('transient'));
        return Promise.resolve({});
      },
    });
    c.enqueue('k');
    await c.processNext();
    expect(c.queue.length).toBe(0);
    clock.advance(5);
    await c.processNext();
    clock.advance(10);
    await c.processNext();
    clock.advance(20);
    await c.processNext();
    expect(calls).toEqual(['k', 'k', 'k', 'k']);
    expect(clock.delays).toEqual([5, 10, 20]);
    expect(c.queue.numRequeues('k')).toBe(0);
    c.enqueue('bad');
    await c.processNext();
    expect(c.queue.numRequeues('bad')).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    expect(await metricValue('skiff_controller_reconcile_total', { controller: 'test-retry', result: 'error' })).toBe(3);
    expect(await metricValue('skiff_controller_reconcile_total', { controller: 'test-retry', result: 'success' })).toBe(1);
    expect(await metricValue('skiff_controller_reconcile_total', { controller: 'test-retry', result: 'terminal' })).toBe(1);
  });

  it('requeueAfterMs schedules the key again', async () => {
    const clock = new ManualClock();
    const c = new Controller({ name: 'test-after', clock, reconcile: () => Promise.resolve({ requeueAfterMs: 3000 }) });
    c.enqueue('k');
    await c.processNext();
    expect(clock.delays).toEqual([3000]);
    clock.advance(3000);
    expect(c.queue.length).toBe(1);
  });

  it('workers never run one key twice at once', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let runs = 0;
    const release: (() => void)[] = [];
    const c = new Controller({
      name: 'test-workers',
      workers: 4,
      reconcile: async () => {
        inFlight++;
        runs++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise<void>((r) => release.push(r));
        inFlight--;
        return {};
      },
    });
    c.start();
    c.enqueue('same');
    await new Promise((r) => setImmediate(r));
    c.enqueue('same');
    c.enqueue('same');
    await new Promise((r) => setImmediate(r));
    expect(inFlight).toBe(1);
    release.shift()?.();
    await new Promise((r) => setImmediate(r));
    expect(runs).toBe(2); // the re-add ran once more after done, not twice
    release.shift()?.();
    await new Promise((r) => setImmediate(r));
    expect(maxInFlight).toBe(1);
    const stopped = c.stop();
    for (const r of release.splice(0)) r();
    await stopped;
    expect(runs).toBe(2);
  });
});
