// npm run chaos -- --seed N --duration S [--agents N]: one chaos run; prints the fault counts and
// any invariant violation with the seed to replay. Exits 1 on a violation.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { LEASE_GAP_EXEMPT } from './checker.js';
import { runChaos } from './run.js';
import { FAULT_KINDS, type FaultKind } from './schedule.js';

const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
};

const cmd = new Command('chaos')
  .option('--seed <n>', 'fault schedule seed', int, Math.floor(Math.random() * 1e6))
  .option('--duration <seconds>', 'how long faults are injected', int, 60)
  .option('--agents <n>', 'fake-runtime node agents', int, 4)
  .option('--kinds <list>', `only these fault kinds, comma-separated (${FAULT_KINDS.join(', ')})`, (v: string) => {
    const ks = v.split(',').map((k) => k.trim());
    const bad = ks.filter((k) => !FAULT_KINDS.includes(k as FaultKind));
    if (bad.length) throw new InvalidArgumentError(`unknown fault kind ${bad.join(', ')}`);
    return ks as FaultKind[];
  })
  .option('--every-kind', 'every kind once first, short holds, and the run ends with the schedule (the CI runs)')
  .parse();
const o = cmd.opts<{ seed: number; duration: number; agents: number; kinds?: FaultKind[]; everyKind?: boolean }>();
console.log(`chaos: seed ${o.seed}, ${o.duration} s, ${o.agents} agents`);
const res = await runChaos({ seed: o.seed, durationMs: o.duration * 1000, agents: o.agents, kinds: o.kinds, everyKind: o.everyKind, log: (l) => console.log(l) });
const h = res.history;
// With CHAOS_LOG_DIR the control planes' logs are there too (bed.ts): the history goes beside them.
if (process.env.CHAOS_LOG_DIR) writeFileSync(join(process.env.CHAOS_LOG_DIR, `history-${o.seed}.json`), JSON.stringify(h));
console.log(`faults: ${JSON.stringify(res.faultCounts)} (${h.faults.length} total)`);
console.log(`recorded: ${h.pods.length} pod events, ${h.deployments.length} Deployment events, ${h.api.length} API responses, ${h.watchRestarts} watch resumes`);
console.log(`checked: ${res.stats.boundChecks} rolling-bound states outside fault windows, ${res.stats.deadNodeChecks} dead-node replacements, ${res.stats.leaseRenewals} lease renewal gaps, ${res.stats.leaderWrites} controller writes against the election key, ${res.stats.containerKills} container kills, ${res.stats.diskFills} full disks`);
console.log(`longest lease gap: ${res.stats.checkedLeaseGapMaxMs} ms where checked, ${res.stats.exemptLeaseGapMaxMs} ms during exempt faults (${[...LEASE_GAP_EXEMPT].join(', ')})`);
console.log(`converged ${h.convergedAt === undefined ? 'never' : `${h.convergedAt - h.quietAt} ms`} after the faults stopped`);
if (res.violations.length) {
  console.log(`FAILED seed ${o.seed} (replay: npm run chaos -- --seed ${o.seed} --duration ${o.duration} --agents ${o.agents}${o.kinds ? ` --kinds ${o.kinds.join(',')}` : ''}${o.everyKind ? ' --every-kind' : ''}):`);
  for (const v of res.violations) console.log(`  ${v}`);
  process.exit(1);
}
console.log(`seed ${o.seed}: all invariants held`);
process.exit(0);
