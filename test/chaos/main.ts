// npm run chaos -- --seed N --duration S [--agents N]: one chaos run; prints the fault counts and
// any invariant violation with the seed to replay. Exits 1 on a violation.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { CONTAINERD_KINDS, type BedRuntime } from './bed.js';
import { LEASE_GAP_EXEMPT } from './checker.js';
import type { FaultRecord } from './history.js';
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
  .option('--concurrency <n>', 'up to this many faults at once, never two on one target, short holds (the long runs)', int, 1)
  .option('--runtime <kind>', 'the agents\' runtime: fake (in process) or containerd (a private containerd per agent; kinds: kill-container, kill-agent, kill-leading-cp, kill-agents-cp)', (v: string) => {
    if (v !== 'fake' && v !== 'containerd') throw new InvalidArgumentError('fake or containerd');
    return v;
  }, 'fake')
  .option('--every-kind', 'every kind once first, short holds, and the run ends with the schedule (the CI runs)')
  .parse();
const o = cmd.opts<{ seed: number; duration: number; agents: number; concurrency: number; runtime: BedRuntime; kinds?: FaultKind[]; everyKind?: boolean }>();
const kinds = o.kinds ?? (o.runtime === 'containerd' ? [...CONTAINERD_KINDS] : undefined);
const unsupported = o.runtime === 'containerd' ? (kinds ?? []).filter((k) => !(CONTAINERD_KINDS as readonly string[]).includes(k)) : [];
if (unsupported.length) {
  console.error(`chaos: ${unsupported.join(', ')} cannot run on containerd (only ${CONTAINERD_KINDS.join(', ')})`);
  process.exit(2);
}
console.log(`chaos: seed ${o.seed}, ${o.duration} s, ${o.agents} agents${o.concurrency > 1 ? `, up to ${o.concurrency} faults at once` : ''}`);
const res = await runChaos({ seed: o.seed, durationMs: o.duration * 1000, agents: o.agents, kinds, everyKind: o.everyKind, concurrency: o.concurrency, runtime: o.runtime, log: (l) => console.log(l) });
const h = res.history;
// With CHAOS_LOG_DIR the control planes' logs are there too (bed.ts): the history goes beside them.
if (process.env.CHAOS_LOG_DIR) writeFileSync(join(process.env.CHAOS_LOG_DIR, `history-${o.seed}.json`), JSON.stringify(h));
console.log(`faults: ${JSON.stringify(res.faultCounts)} (${h.faults.length} total, at most ${maxOverlap(h.faults)} at once)`);
console.log(`recorded: ${h.pods.length} pod events, ${h.deployments.length} Deployment events, ${h.api.length} API responses, ${h.watchRestarts} watch resumes`);
console.log(`checked: ${res.stats.boundChecks} rolling-bound states outside fault windows, ${res.stats.deadNodeChecks} dead-node replacements, ${res.stats.leaseRenewals} lease renewal gaps, ${res.stats.leaderWrites} controller writes against the election key, ${res.stats.containerKills} container kills, ${res.stats.diskFills} full disks (${res.stats.diskFillsOverlapped} time bounds excused by an overlapping fault on the control path or the node)`);
console.log(`longest lease gap: ${res.stats.checkedLeaseGapMaxMs} ms where checked, ${res.stats.exemptLeaseGapMaxMs} ms during exempt faults (${[...LEASE_GAP_EXEMPT].join(', ')}), ${res.stats.compoundLeaseGapMaxMs} ms while an etcd and a control-plane fault overlapped`);
console.log(`converged ${h.convergedAt === undefined ? 'never' : `${h.convergedAt - h.quietAt} ms`} after the faults stopped`);
function maxOverlap(faults: readonly FaultRecord[]): number {
  const edges = faults.flatMap((f) => [{ t: f.start, d: 1 }, { t: f.end, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
  let n = 0;
  let max = 0;
  for (const e of edges) max = Math.max(max, (n += e.d));
  return max;
}

if (res.violations.length) {
  console.log(`FAILED seed ${o.seed} (replay: npm run chaos -- --seed ${o.seed} --duration ${o.duration} --agents ${o.agents}${o.concurrency > 1 ? ` --concurrency ${o.concurrency}` : ''}${o.runtime !== 'fake' ? ` --runtime ${o.runtime}` : ''}${o.kinds ? ` --kinds ${o.kinds.join(',')}` : ''}${o.everyKind ? ' --every-kind' : ''}):`);
  for (const v of res.violations) console.log(`  ${v}`);
  process.exit(1);
}
console.log(`seed ${o.seed}: all invariants held`);
process.exit(0);
