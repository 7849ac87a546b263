// The chaos run on real containerd at a small size (CI): two agents, each on a private
// containerd, a workload of real containers, and the faults that mean something there: a
// container killed (CRI StopContainer, timeout 0: SIGKILL), a node crashed (agent and containerd
// stop together, every container gone; a fresh containerd when it comes back), and the leading
// and the agents' control plane killed. Checked by the same checker as the fake-runtime runs.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../e2e/cluster.js';
import { CONTAINERD_KINDS } from './bed.js';
import { runChaos } from './run.js';

beforeAll(async () => {
  await ensureBuilt();
}, 300_000);

const SEED = 21;

describe('chaos on containerd (CI)', () => {
  it(`seed ${SEED}: ${CONTAINERD_KINDS.join(', ')}`, async () => {
    const res = await runChaos({ seed: SEED, durationMs: 0, agents: 2, kinds: [...CONTAINERD_KINDS], everyKind: true, runtime: 'containerd' });
    const replay = `replay: npm run chaos -- --seed ${SEED} --duration 0 --agents 2 --runtime containerd --every-kind`;
    expect(Object.keys(res.faultCounts).sort(), replay).toEqual([...CONTAINERD_KINDS].sort());
    expect(res.history.pods.length, replay).toBeGreaterThan(0);
    expect(res.stats.leaderWrites, replay).toBeGreaterThan(0);
    expect(res.stats.containerKills, replay).toBeGreaterThan(0);
    expect(res.violations, replay).toEqual([]);
  }, 300_000);
});
