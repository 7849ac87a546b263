import { describe, expect, it } from 'vitest';
import { traceReport, traceSummary } from './pod-trace.js';

describe('traceReport', () => {
  it('gives each phase between consecutive marks and leaves out pods missing a mark', () => {
    const full = (base: number, step: number) => ({
      created: base, scheduled: base + step, agentSeen: base + 2 * step, sandboxReady: base + 3 * step,
      containerStarted: base + 4 * step, runningReported: base + 5 * step, clientRunning: base + 6 * step,
    });
    const r = traceReport([full(0, 10), full(1000, 20), { created: 5, scheduled: 6 }]);
    expect(r.pods).toBe(2);
    expect(Object.keys(r.phases)).toEqual([
      'created->scheduled', 'scheduled->agentSeen', 'agentSeen->sandboxReady', 'sandboxReady->containerStarted',
      'containerStarted->runningReported', 'runningReported->clientRunning',
    ]);
    expect(r.phases['created->scheduled']).toMatchObject({ count: 2, p50: 10, p99: 20 });
    expect(r.total).toMatchObject({ count: 2, p50: 60, max: 120 });
    expect(traceSummary(r)).toContain('created->clientRunning');
  });
});
