// The short CI chaos run: two fixed seeds, each over part of the fault kinds (together all of
// them), with every invariant of checker.ts checked over the recorded history. A failure prints
// the seed to replay with `npm run chaos -- --seed N --duration S`.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../e2e/cluster.js';
import { runChaos } from './run.js';
import type { FaultKind } from './schedule.js';

beforeAll(async () => {
  // The control planes run from dist/ as child processes: build it when stale, never under
  // the e2e files that run from it at the same time.
  await ensureBuilt();
}, 300_000);

const RUNS: { seed: number; kinds: FaultKind[] }[] = [
  { seed: 11, kinds: ['kill-etcd-leader', 'kill-agents-cp', 'partition-agent', 'pause-leading-cp'] },
  { seed: 12, kinds: ['kill-leading-cp', 'partition-cp-etcd', 'sick-runtime', 'pause-etcd-member', 'kill-agent'] },
];

describe('chaos (CI seeds)', () => {
  for (const r of RUNS) {
    it(`seed ${r.seed}: ${r.kinds.join(', ')}`, async () => {
      const res = await runChaos({ seed: r.seed, durationMs: 20_000, agents: 3, kinds: r.kinds });
      const replay = `replay: seed ${r.seed}, kinds ${r.kinds.join(',')}`;
      expect(res.history.faults.length, replay).toBeGreaterThan(0);
      expect(res.history.pods.length, replay).toBeGreaterThan(0);
      expect(res.stats.boundChecks, replay).toBeGreaterThan(0);
      expect(res.violations, replay).toEqual([]);
    }, 240_000);
  }
});
