// The short CI chaos run: two fixed seeds, each over half of the fault kinds (together all of
// them), with every invariant of checker.ts checked over the recorded history. A failure prints
// the seed to replay with `npm run chaos -- --seed N --duration S`.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { runChaos } from './run.js';
import type { FaultKind } from './schedule.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

beforeAll(async () => {
  // The control planes run from dist/ as child processes: build what the run starts.
  await promisify(execFile)('npx', ['tsc', '-p', '.'], { cwd: ROOT, maxBuffer: 16 << 20 });
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
