// One chaos run: starts the bed, drives the workload while executing the seeded fault schedule,
// lets the cluster converge, reads the end state and checks the recorded history.
import { Bed, LEADER_LEASE_SECONDS, type BedRuntime } from './bed.js';
import { check, CONVERGE_BOUND_MS, newStats, type CheckStats } from './checker.js';
import type { FaultRecord, History } from './history.js';
import { Prng } from './prng.js';
import { Recorder } from './recorder.js';
import { laneCooldownMs, lanesOf, planFaults, type FaultKind, type PlannedFault } from './schedule.js';
import { Workload } from './workload.js';

export interface RunOptions {
  seed: number;
  durationMs: number;
  agents?: number;
  kinds?: readonly FaultKind[];
  /** Every kind once, short holds; the run lasts as long as the schedule (schedule.ts). */
  everyKind?: boolean;
  /** Up to this many faults at once, never two on one target (schedule.ts); default 1. */
  concurrency?: number;
  /** The agents' runtime (default the fake; containerd: a private containerd per agent). */
  runtime?: BedRuntime;
  log?: (line: string) => void;
}

export interface RunResult {
  history: History;
  violations: string[];
  faultCounts: Record<string, number>;
  stats: CheckStats;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function inject(bed: Bed, f: PlannedFault, t0: number): Promise<FaultRecord> {
  const start = Date.now() - t0;
  let detail = '';
  let node: string | undefined;
  let uid: string | undefined;
  switch (f.kind) {
    case 'kill-etcd-leader': {
      const i = Math.max(0, await bed.etcd.leader());
      detail = `etcd member e${i}`;
      await bed.etcd.kill(i);
      await sleep(f.holdMs);
      await bed.etcd.restart(i);
      break;
    }
    case 'pause-etcd-member':
      detail = `etcd member e${f.target}`;
      bed.etcd.pause(f.target);
      await sleep(f.holdMs);
      bed.etcd.resume(f.target);
      break;
    case 'kill-leading-cp':
    case 'kill-agents-cp':
    case 'pause-leading-cp':
    case 'partition-cp-etcd': {
      // With overlapping faults etcd may be between leaders for a while: then the fault hits the
      // control plane the agents use (recorded so), rather than failing the run.
      let leaderless = false;
      const i = f.kind === 'kill-agents-cp' ? agentsCp(bed) : await bed.waitLeader(15_000).catch(() => {
        leaderless = true;
        return agentsCp(bed);
      });
      const cp = bed.cps[i]!;
      detail = leaderless ? `${cp.identity} (no leader found: the agents' control plane)` : cp.identity;
      if (f.kind === 'pause-leading-cp') {
        cp.signal('SIGSTOP');
        await sleep(f.holdMs);
        cp.signal('SIGCONT');
      } else if (f.kind === 'partition-cp-etcd') {
        cp.partition(true);
        await sleep(f.holdMs);
        cp.partition(false);
      } else {
        await cp.kill();
        await sleep(f.holdMs);
        await cp.start();
      }
      break;
    }
    case 'partition-agent': {
      const a = bed.agents[f.target]!;
      detail = a.name;
      a.partition(true);
      await sleep(f.holdMs);
      a.partition(false);
      break;
    }
    case 'kill-agent': {
      const a = bed.agents[f.target]!;
      detail = node = a.name;
      await a.kill();
      await sleep(f.holdMs);
      await a.start();
      break;
    }
    case 'kill-container': {
      const a = bed.agents[f.target]!;
      const victim = await a.killChaosContainer(f.target);
      if (victim) {
        detail = `${a.name} pod ${victim.pod}`;
        uid = victim.uid;
      } else {
        detail = `${a.name} (no running chaos container)`;
      }
      await sleep(f.holdMs);
      break;
    }
    case 'fill-disk': {
      const a = bed.agents[f.target]!;
      detail = node = a.name;
      await a.fillDisk();
      await sleep(f.holdMs);
      await a.freeDisk();
      break;
    }
    case 'sick-runtime': {
      const a = bed.agents[f.target]!;
      detail = a.name;
      a.host!.health.runtimeReady = false;
      await sleep(f.holdMs);
      if (a.host) a.host.health.runtimeReady = true;
      break;
    }
  }
  return { kind: f.kind, start, end: Date.now() - t0, detail, node, uid };
}

/** The control plane most agents use now (each agent's client has one in use). */
function agentsCp(bed: Bed): number {
  const counts = bed.cps.map((_, i) => bed.agents.filter((a) => a.agent?.api.endpoints.index === i).length);
  return counts[1]! > counts[0]! ? 1 : 0;
}

export async function runChaos(o: RunOptions): Promise<RunResult> {
  const log = o.log ?? (() => undefined);
  const concurrency = o.concurrency ?? 1;
  const schedule = planFaults({
    seed: o.seed, durationMs: o.durationMs, agents: o.agents ?? 4, leaderLeaseMs: LEADER_LEASE_SECONDS * 1000, kinds: o.kinds, everyKind: o.everyKind, concurrency,
  });
  const history: History = { seed: o.seed, pods: [], deployments: [], nodes: [], terms: [], controllerWrites: [], api: [], faults: [], quietAt: 0, watchRestarts: 0 };
  const t0 = Date.now();
  const bed = await Bed.start({ agents: o.agents ?? 4, runtime: o.runtime });
  const recorder = new Recorder(bed.etcd.endpoints.map((e) => `http://${e.host}:${e.port}`), history, t0, bed.cps.map((c) => c.identity));
  const workload = new Workload(bed, history, t0, new Prng(o.seed ^ 0x5eed), bed.image);
  const faultCounts: Record<string, number> = {};
  try {
    await recorder.start();
    await workload.setup();
    const ready = Date.now() + 60_000;
    while (!(await workload.converged().catch(() => false))) {
      if (Date.now() > ready) throw new Error('the workload did not come up before the faults');
      await sleep(250);
    }
    log(`seed ${o.seed}: bed up, ${schedule.length} faults planned over ${o.durationMs / 1000} s`);
    const phase = Date.now();
    let stop = false;
    const driving = (async () => {
      const rng = new Prng(o.seed ^ 0xd21e);
      while (!stop) {
        await workload.step().catch((e: unknown) => log(`workload step: ${String(e)}`));
        await sleep(rng.int(100, 600));
      }
    })();
    // Lanes held by faults in flight: a fault whose planned start comes before the one ahead of
    // it on its lane has really ended (a restart took longer than planned) waits for it.
    const held = new Map<string, Promise<void>>();
    const inFlight = new Set<Promise<void>>();
    let failure: Error | undefined;
    const one = async (f: PlannedFault): Promise<void> => {
      const rec = await inject(bed, f, t0);
      history.faults.push(rec);
      faultCounts[f.kind] = (faultCounts[f.kind] ?? 0) + 1;
      log(`  ${rec.kind} ${rec.detail} ${rec.start}-${rec.end} ms`);
    };
    try {
      for (const f of schedule) {
        if (failure !== undefined) break;
        const wait = phase + f.atMs - Date.now();
        if (wait > 0) await sleep(wait);
        if (concurrency <= 1) {
          await one(f);
          continue;
        }
        const lanes = lanesOf(f.kind, f.target, f.holdMs);
        while (lanes.some((l) => held.has(l)) || inFlight.size >= concurrency) {
          await Promise.race([...lanes.map((l) => held.get(l)).filter((x) => x !== undefined), ...inFlight]);
        }
        const p: Promise<void> = one(f).catch((e: unknown) => {
          failure ??= e instanceof Error ? e : new Error(String(e));
        }).finally(() => inFlight.delete(p));
        inFlight.add(p);
        for (const l of lanes) {
          // The lane stays held for its cool-down after the fault (a restarted member rejoins).
          const lane: Promise<void> = p.then(() => sleep(laneCooldownMs(l))).finally(() => {
            if (held.get(l) === lane) held.delete(l);
          });
          held.set(l, lane);
        }
      }
      await Promise.all(inFlight);
      if (failure !== undefined) throw failure;
      history.faults.sort((a, b) => a.start - b.start);
      const left = phase + o.durationMs - Date.now();
      if (left > 0) await sleep(left);
    } finally {
      stop = true;
      await driving;
    }
    history.quietAt = Date.now() - t0;
    const bound = Date.now() + CONVERGE_BOUND_MS;
    while (Date.now() < bound) {
      if (await workload.converged().catch(() => false)) {
        history.convergedAt = Date.now() - t0;
        break;
      }
      await sleep(500);
    }
    history.final = await workload.final();
    // Let the recorder catch up with the last writes before judging.
    await sleep(1000);
  } finally {
    workload.close();
    await recorder.stop();
    await bed.stop();
  }
  const stats: CheckStats = newStats();
  const violations = check(history, stats);
  return { history, violations, faultCounts, stats };
}
