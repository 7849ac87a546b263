// One chaos run: starts the bed, drives the workload while executing the seeded fault schedule,
// lets the cluster converge, reads the end state and checks the recorded history.
import { LABEL_POD_NAME, LABEL_POD_UID } from '../../node-agent/runtime/labels.js';
import { Bed, LEADER_LEASE_SECONDS } from './bed.js';
import { check, CONVERGE_BOUND_MS, newStats, type CheckStats } from './checker.js';
import type { FaultRecord, History } from './history.js';
import { Prng } from './prng.js';
import { Recorder } from './recorder.js';
import { planFaults, type FaultKind, type PlannedFault } from './schedule.js';
import { Workload } from './workload.js';

export interface RunOptions {
  seed: number;
  durationMs: number;
  agents?: number;
  kinds?: readonly FaultKind[];
  /** Every kind once, short holds; the run lasts as long as the schedule (schedule.ts). */
  everyKind?: boolean;
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
      const i = f.kind === 'kill-agents-cp' ? agentsCp(bed) : await bed.waitLeader(15_000);
      const cp = bed.cps[i]!;
      detail = cp.identity;
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
      const running = [...(a.host?.containers.values() ?? [])]
        .filter((c) => c.state === 'running' && c.labels[LABEL_POD_NAME]?.match(/^(roll-a|roll-b|scaled)-/))
        .sort((x, y) => x.id.localeCompare(y.id));
      const victim = running.length ? running[f.target % running.length] : undefined;
      if (victim && a.runtime?.killContainer(victim.id)) {
        detail = `${a.name} pod ${victim.labels[LABEL_POD_NAME]}`;
        uid = victim.labels[LABEL_POD_UID];
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

/** The control plane most agent connections go to (through their proxies). */
function agentsCp(bed: Bed): number {
  const counts = bed.cps.map((_, i) => bed.agents.reduce((n, a) => n + (a.cpProxies[i]?.connections ?? 0), 0));
  return counts[1]! > counts[0]! ? 1 : 0;
}

export async function runChaos(o: RunOptions): Promise<RunResult> {
  const log = o.log ?? (() => undefined);
  const schedule = planFaults({ seed: o.seed, durationMs: o.durationMs, agents: o.agents ?? 4, leaderLeaseMs: LEADER_LEASE_SECONDS * 1000, kinds: o.kinds, everyKind: o.everyKind });
  const history: History = { seed: o.seed, pods: [], deployments: [], nodes: [], terms: [], controllerWrites: [], api: [], faults: [], quietAt: 0, watchRestarts: 0 };
  const t0 = Date.now();
  const bed = await Bed.start({ agents: o.agents ?? 4 });
  const recorder = new Recorder(bed.etcd.endpoints.map((e) => `http://${e.host}:${e.port}`), history, t0, bed.cps.map((c) => c.identity));
  const workload = new Workload(bed, history, t0, new Prng(o.seed ^ 0x5eed));
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
    try {
      for (const f of schedule) {
        const wait = phase + f.atMs - Date.now();
        if (wait > 0) await sleep(wait);
        const rec = await inject(bed, f, t0);
        history.faults.push(rec);
        faultCounts[f.kind] = (faultCounts[f.kind] ?? 0) + 1;
        log(`  ${rec.kind} ${rec.detail} ${rec.start}-${rec.end} ms`);
      }
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
