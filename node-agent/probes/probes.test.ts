import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Probe, type Container } from '../../proto/gen/skiff/v1/core.js';
import { fromManifest } from '../../proto/api/manifest.js';
import { ManualClock } from '../../proto/api/clock.js';
import { httpCheck, probeCheck, ProbeConfigError, resolvePort, tcpCheck } from './handlers.js';
import { probeTiming } from './spec.js';
import { ThresholdState } from './threshold.js';
import { ProbeWorker } from './worker.js';

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

describe('probe timing', () => {
  it('fills Kubernetes defaults', () => {
    expect(probeTiming('readiness', Probe.fromPartial({}))).toEqual({
      initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 3,
    });
  });
  it('keeps given values; liveness success threshold is always 1', () => {
    const p = Probe.fromPartial({ initialDelaySeconds: 5, periodSeconds: 2, timeoutSeconds: 3, successThreshold: 4, failureThreshold: 6 });
    expect(probeTiming('readiness', p)).toEqual({ initialDelayMs: 5000, periodMs: 2000, timeoutMs: 3000, successThreshold: 4, failureThreshold: 6 });
    expect(probeTiming('liveness', p).successThreshold).toBe(1);
  });
});

describe('threshold state', () => {
  it('flips to failing only after failureThreshold consecutive failures', () => {
    const s = new ThresholdState(1, 3, true);
    expect([s.record(false), s.record(false), s.record(true), s.record(false), s.record(false)]).toEqual([
      undefined, undefined, undefined, undefined, undefined,
    ]);
    expect(s.record(false)).toBe(false);
    expect(s.verdict).toBe(false);
  });
  it('flips to passing after successThreshold consecutive successes', () => {
    const s = new ThresholdState(2, 3, false);
    expect(s.record(true)).toBeUndefined();
    expect(s.record(false)).toBeUndefined();
    expect(s.record(true)).toBeUndefined();
    expect(s.record(true)).toBe(true);
  });
});

describe('probe worker on a manual clock', () => {
  it('waits the initial delay, probes every period, reports flips', async () => {
    const clock = new ManualClock();
    const results = [true, false, false, false, true];
    const calls: number[] = [];
    const verdicts: boolean[] = [];
    const w = new ProbeWorker({
      kind: 'liveness',
      timing: probeTiming('liveness', Probe.fromPartial({ initialDelaySeconds: 5, periodSeconds: 2 })),
      clock,
      check: () => {
        calls.push(clock.now());
        return Promise.resolve(results.shift() ?? true);
      },
      onVerdict: (v) => verdicts.push(v),
    });
    const t0 = clock.now();
    w.start();
    clock.advance(4999);
    await flush();
    expect(calls).toEqual([]);
    for (let i = 0; i < 5; i++) {
      clock.advance(i === 0 ? 1 : 2000);
      await flush();
    }
    expect(calls.map((c) => c - t0)).toEqual([5000, 7000, 9000, 11000, 13000]);
    expect(verdicts).toEqual([false, true]);
    w.stop();
    clock.advance(10_000);
    await flush();
    expect(calls).toHaveLength(5);
  });

  it('counts a check slower than timeoutSeconds as a failure', async () => {
    const clock = new ManualClock();
    const verdicts: boolean[] = [];
    const w = new ProbeWorker({
      kind: 'readiness',
      timing: probeTiming('readiness', Probe.fromPartial({ periodSeconds: 1, failureThreshold: 1, timeoutSeconds: 1 })),
      clock,
      check: () => new Promise<boolean>(() => undefined),
      onVerdict: (v) => verdicts.push(v),
    });
    w.start();
    clock.advance(0);
    await flush();
    clock.advance(1000);
    await flush();
    expect(verdicts).toEqual([false]);
    w.stop();
  });

  it('stops a startup probe after its first success', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const verdicts: boolean[] = [];
    const w = new ProbeWorker({
      kind: 'startup',
      timing: probeTiming('startup', Probe.fromPartial({ periodSeconds: 1 })),
      clock,
      check: () => Promise.resolve(++calls >= 2),
      onVerdict: (v) => verdicts.push(v),
    });
    w.start();
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      await flush();
    }
    expect(calls).toBe(2);
    expect(verdicts).toEqual([true]);
  });
});

describe('probe actions', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  const container = (): Container =>
    (fromManifest({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'i', ports: [{ name: 'http', containerPort: 8080 }] }] },
    }).object as { spec: { containers: Container[] } }).spec.containers[0]!;

  it('resolves named and numeric ports', () => {
    const c = container();
    expect(resolvePort({ type: 1, intVal: 0, strVal: 'http' }, c)).toBe(8080);
    expect(resolvePort({ type: 0, intVal: 81, strVal: '' }, c)).toBe(81);
    expect(() => resolvePort({ type: 1, intVal: 0, strVal: 'nope' }, c)).toThrow(ProbeConfigError);
  });

  it('httpGet passes on 2xx/3xx and fails on 5xx or no listener', async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === '/ok' ? 200 : req.url === '/redirect' ? 302 : 503;
      res.end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    expect(await httpCheck(false, '127.0.0.1', port, '/ok', {}, 1000)).toBe(true);
    expect(await httpCheck(false, '127.0.0.1', port, '/redirect', {}, 1000)).toBe(true);
    expect(await httpCheck(false, '127.0.0.1', port, '/bad', {}, 1000)).toBe(false);
    expect(await tcpCheck('127.0.0.1', port, 1000)).toBe(true);
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    expect(await tcpCheck('127.0.0.1', port, 1000)).toBe(false);
    expect(await httpCheck(false, '127.0.0.1', port, '/ok', {}, 1000)).toBe(false);
  });

  it('rejects a probe without an action', () => {
    expect(() =>
      probeCheck(Probe.fromPartial({}), { container: container(), defaultHost: '127.0.0.1', runtime: undefined as never, handle: () => undefined }),
    ).toThrow(ProbeConfigError);
  });
});
