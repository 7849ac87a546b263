import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../proto/api/clock.js';
import { WorkQueue } from './workqueue.js';

describe('WorkQueue', () => {
  it('hands each waiting key out once, in FIFO order', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.length).toBe(0);
  });

  it('never hands out a key being processed; a re-add is queued again on done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = await q.get();
    q.add('a');
    q.add('a');
    expect(q.length).toBe(0);
    q.add('b');
    expect(await q.get()).toBe('b');
    q.done(k!);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.length).toBe(0);
  });

  it('a waiting get receives the next added key', async () => {
    const q = new WorkQueue();
    const p = q.get();
    q.add('x');
    expect(await p).toBe('x');
    q.add('x');
    expect(q.length).toBe(0); // still processing: parked until done
    q.done('x');
    expect(q.length).toBe(1);
  });

  it('retries with exponential backoff 5 ms doubling, capped, and forget resets it', () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock, maxDelayMs: 1000 });
    const seq: number[] = [];
    for (let i = 0; i < 10; i++) seq.push(q.addRateLimited('k'));
    expect(seq).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    expect(q.numRequeues('k')).toBe(10);
    q.forget('k');
    expect(q.addRateLimited('k')).toBe(5);
    expect(q.addRateLimited('other')).toBe(5);
  });

  it('client-go defaults: 5 ms base, 1000 s cap', () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    let last = 0;
    for (let i = 0; i < 40; i++) last = q.addRateLimited('k');
    expect(last).toBe(1_000_000);
  });

  it('addAfter adds the key when its time comes, the earliest deadline wins', () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 100);
    q.addAfter('a', 50);
    q.addAfter('a', 200);
    clock.advance(49);
    expect(q.length).toBe(0);
    clock.advance(1);
    expect(q.length).toBe(1);
    clock.advance(500);
    expect(q.length).toBe(1); // the cancelled 100 ms timer did not add it again
    expect(clock.pendingTimers).toBe(0);
  });

  it('a rate-limited key becomes ready after exactly its delay', () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    q.addRateLimited('k'); // 5
    clock.advance(4);
    expect(q.length).toBe(0);
    clock.advance(1);
    expect(q.length).toBe(1);
  });

  it('shutDown releases waiting getters and drops later adds', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    const p = q.get();
    q.addAfter('late', 10);
    q.shutDown();
    expect(await p).toBeUndefined();
    q.add('a');
    clock.advance(20);
    expect(q.length).toBe(0);
    expect(await q.get()).toBeUndefined();
  });
});
