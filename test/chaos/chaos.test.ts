// The short CI chaos run: two fixed seeds, each taking every one of its fault kinds once (together
// all of them) with short holds, with every invariant of checker.ts checked over the recorded
// history. A failure prints the seed to replay with `npm run chaos -- --seed N --ci-kinds K,...`.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../e2e/cluster.js';
import { runChaos } from './run.js';
import { FAULT_KINDS, type FaultKind } from './schedule.js';

beforeAll(async () => {
  // The control planes run from dist/ as child processes: build it when stale, never under
  // the e2e files that run from it at the same time.
  await ensureBuilt();
}, 300_000);

const RUNS: { seed: number; kinds: FaultKind[] }[] = [
  { seed: 11, kinds: ['kill-etcd-leader', 'kill-agents-cp', 'partition-agent', 'pause-leading-cp', 'kill-container', 'fill-disk'] },
  { seed: 12, kinds: ['kill-leading-cp', 'partition-cp-etcd', 'sick-runtime', 'pause-etcd-member', 'kill-agent'] },
];

describe('chaos (CI seeds)', () => {
  it('covers every fault kind', () => {
    expect(new Set(RUNS.flatMap((r) => r.kinds))).toEqual(new Set(FAULT_KINDS));
  });

  for (const r of RUNS) {
    it(`seed ${r.seed}: ${r.kinds.join(', ')}`, async () => {
      const res = await runChaos({ seed: r.seed, durationMs: 0, agents: 3, kinds: r.kinds, everyKind: true });
      const replay = `replay: npm run chaos -- --seed ${r.seed} --duration 0 --agents 3 --kinds ${r.kinds.join(',')} --every-kind`;
      expect(Object.keys(res.faultCounts).sort(), replay).toEqual([...r.kinds].sort());
      expect(res.history.pods.length, replay).toBeGreaterThan(0);
      expect(res.stats.boundChecks, replay).toBeGreaterThan(0);
      expect(res.stats.leaderWrites, replay).toBeGreaterThan(0);
      if (r.kinds.includes('kill-container')) expect(res.stats.containerKills, replay).toBeGreaterThan(0);
      if (r.kinds.includes('fill-disk')) expect(res.stats.diskFills, replay).toBeGreaterThan(0);
      expect(res.violations, replay).toEqual([]);
    }, 240_000);
  }
});
