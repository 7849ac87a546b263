// The fault schedule: a pure function of (seed, duration, bed shape). By default faults run one
// at a time with a quiet gap between them. With a concurrency above 1 (the long runs) up to that
// many overlap, never two on one target (see lanesOf), with short holds. Either way every fault
// has its own [start, end] record, and the checker's windows are the union of those.
import { Prng } from './prng.js';

export type FaultKind =
  | 'kill-etcd-leader' // SIGKILL the etcd member that leads, restart it after holdMs
  | 'pause-etcd-member' // SIGSTOP a random etcd member for holdMs, then SIGCONT
  | 'kill-leading-cp' // SIGKILL the leading control plane, restart it after holdMs
  | 'kill-agents-cp' // SIGKILL the control plane the agents talk to (the first address), restart after holdMs
  | 'pause-leading-cp' // SIGSTOP the leading control plane past its leader lease, then SIGCONT
  | 'partition-cp-etcd' // the leading control plane's etcd proxies refuse and cut connections for holdMs
  | 'partition-agent' // one agent's control-plane proxies refuse and cut for holdMs
  | 'kill-agent' // an agent and its fake containers vanish (a dead node); back after holdMs
  | 'sick-runtime' // an agent's fake runtime reports RuntimeReady=false for holdMs
  | 'kill-container' // one running container of a chaos pod on an agent is killed (exit 137); watched for holdMs
  | 'fill-disk'; // an agent's state dir (its own small tmpfs) is filled past the eviction threshold for holdMs

export const FAULT_KINDS: readonly FaultKind[] = [
  'kill-etcd-leader', 'pause-etcd-member', 'kill-leading-cp', 'kill-agents-cp', 'pause-leading-cp',
  'partition-cp-etcd', 'partition-agent', 'kill-agent', 'sick-runtime', 'kill-container', 'fill-disk',
];

export interface PlannedFault {
  kind: FaultKind;
  /** ms after the run's start. */
  atMs: number;
  holdMs: number;
  /** Which agent (for agent faults) or etcd member (pause-etcd-member); 0 otherwise. */
  target: number;
}

export interface ScheduleOptions {
  seed: number;
  durationMs: number;
  agents: number;
  /** Leader lease of the control planes: pauses last longer than this. */
  leaderLeaseMs: number;
  /** When set, only these kinds. */
  kinds?: readonly FaultKind[];
  /**
   * Every kind once first (in a seeded order), with short holds and gaps: the CI runs, which
   * must cover their kinds within a short run. The run lasts until the last fault is over.
   */
  everyKind?: boolean;
  /** Up to this many faults in flight at once (default 1: one at a time). */
  concurrency?: number;
}

export function planFaults(o: ScheduleOptions): PlannedFault[] {
  if ((o.concurrency ?? 1) > 1 && !o.everyKind) return planOverlapping(o);
  const rng = new Prng(o.seed);
  const kinds = o.kinds ?? FAULT_KINDS;
  const out: PlannedFault[] = [];
  let t = rng.int(2_000, 4_000);
  const order = o.everyKind ? shuffled(rng, kinds) : [];
  while (o.everyKind ? order.length > 0 : t < o.durationMs) {
    const kind = order.shift() ?? rng.pick(kinds);
    const short = o.everyKind === true;
    const holdMs = kind === 'pause-leading-cp'
      ? o.leaderLeaseMs + rng.int(1_000, short ? 2_000 : 4_000)
      : kind === 'kill-agent'
        // Long enough now and then for the dead node's pods to be evicted and replaced.
        ? (short ? 8_000 : rng.pick([8_000, 20_000, 65_000]))
        : kind === 'kill-container'
          ? rng.int(2_000, 4_000)
          : short ? rng.int(3_000, 5_000) : rng.int(3_000, 12_000);
    const target = kind === 'pause-etcd-member' ? rng.int(0, 2) : rng.int(0, o.agents - 1);
    out.push({ kind, atMs: t, holdMs, target });
    t += holdMs + (short ? rng.int(2_000, 4_000) : rng.int(3_000, 8_000));
  }
  return out;
}

function shuffled<T>(rng: Prng, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * What a fault occupies while it is held (and for LANE_COOLDOWN_MS after): the etcd cluster
 * (one etcd fault at a time: two would be a loss of quorum, a different fault), the control
 * planes (one at a time: two would leave none), the agent it hits, and "a node lost" for the
 * faults that take a node out of service (kill, partition, sick runtime: one node at a time, so
 * a dead node's pods always have somewhere to go).
 */
export function lanesOf(kind: FaultKind, target: number, holdMs = 0): string[] {
  // A node dead long enough for invariant 6 (its pods run elsewhere within 60 s) needs a stable
  // leader meanwhile: each new leader's node lifecycle controller gives every node a fresh grace
  // period (as Kubernetes' does), so churning leaders would postpone the eviction indefinitely.
  if (kind === 'kill-agent' && holdMs >= LONG_KILL_MS) return [`agent-${target}`, 'node-loss', 'cp', 'etcd'];
  switch (kind) {
    case 'kill-etcd-leader':
    case 'pause-etcd-member':
      return ['etcd'];
    case 'kill-leading-cp':
    case 'kill-agents-cp':
    case 'pause-leading-cp':
    case 'partition-cp-etcd':
      return ['cp'];
    case 'kill-agent':
    case 'partition-agent':
    case 'sick-runtime':
      return [`agent-${target}`, 'node-loss'];
    case 'kill-container':
      return [`agent-${target}`];
    case 'fill-disk':
      // One full disk at a time: with a node dead as well, two nodes always take new pods.
      return [`agent-${target}`, 'disk'];
  }
}

/**
 * After a fault on a lane ends, how long before the next on it: an etcd member or a control
 * plane just restarted must rejoin before the next fault there (killing the leader while the
 * member restarted a moment ago still catches up would be a loss of quorum).
 */
/** kill-agent holds from this long on are checked by invariant 6 (checker.ts DEAD_NODE_BOUND_MS). */
const LONG_KILL_MS = 60_000;

const LANE_COOLDOWN_MS: Record<string, number> = { etcd: 3_000, cp: 3_000, 'node-loss': 1_000 };
export function laneCooldownMs(lane: string): number {
  return LANE_COOLDOWN_MS[lane] ?? 500;
}

/**
 * Overlapping faults: starts 0.2-1.2 s apart, up to `concurrency` in flight, each on lanes no
 * fault in flight holds, with short holds (2-4 s; pause-leading-cp lease + 1-2 s; kill-agent
 * mostly 8 s, now and then 20 or 65 s so dead nodes still get replaced). A pure function of the
 * options like the sequential schedule.
 */
function planOverlapping(o: ScheduleOptions): PlannedFault[] {
  const rng = new Prng(o.seed);
  const kinds = o.kinds ?? FAULT_KINDS;
  const n = o.concurrency ?? 1;
  const out: PlannedFault[] = [];
  /** Lane -> when it is free again. */
  const busy = new Map<string, number>();
  const inFlight: number[] = [];
  let t = rng.int(2_000, 4_000);
  const free = (lanes: string[]): boolean => lanes.every((l) => (busy.get(l) ?? 0) <= t);
  /** A long kill drawn while its lanes were busy: it starts as soon as they are free, and nothing new takes them meanwhile. */
  let waiting: PlannedFault | undefined;
  const add = (f: PlannedFault): void => {
    out.push(f);
    const end = f.atMs + f.holdMs;
    inFlight.push(end);
    for (const l of lanesOf(f.kind, f.target, f.holdMs)) busy.set(l, end + laneCooldownMs(l));
  };
  while (t < o.durationMs) {
    for (let i = inFlight.length - 1; i >= 0; i--) if (inFlight[i]! <= t) inFlight.splice(i, 1);
    if (waiting && inFlight.length < n && free(lanesOf(waiting.kind, waiting.target, waiting.holdMs))) {
      add({ ...waiting, atMs: t });
      waiting = undefined;
      t += rng.int(200, 1_200);
      continue;
    }
    const reserved = waiting ? lanesOf(waiting.kind, waiting.target, waiting.holdMs) : [];
    const options: { kind: FaultKind; target: number }[] = [];
    if (inFlight.length < n) {
      for (const kind of kinds) {
        const targets = agentKind(kind) ? [...Array(o.agents).keys()] : [kind === 'pause-etcd-member' ? -1 : 0];
        for (const target of targets) {
          const lanes = lanesOf(kind, Math.max(target, 0));
          if (free(lanes) && !lanes.some((l) => reserved.includes(l))) options.push({ kind, target });
        }
      }
    }
    if (options.length === 0) {
      // Nothing can start now: wait for the next fault to end or lane to cool down.
      const next = Math.min(...inFlight, ...[...busy.values()].filter((x) => x > t));
      t = Number.isFinite(next) ? next : t + 1_000;
      continue;
    }
    // Every kind as likely as the others (drawing only among the free ones would make the
    // cheap agent faults most of the run): a kind whose lanes are busy is a miss, and the next
    // draw comes a little later.
    const kind = rng.pick(kinds);
    const targets = options.filter((x) => x.kind === kind).map((x) => x.target);
    if (targets.length === 0) {
      t += rng.int(100, 400);
      continue;
    }
    const target = kind === 'pause-etcd-member' ? rng.int(0, 2) : rng.pick(targets);
    let holdMs = kind === 'pause-leading-cp'
      ? o.leaderLeaseMs + rng.int(1_000, 2_000)
      : kind === 'kill-agent'
        ? rng.pick([8_000, 8_000, 8_000, 20_000, 65_000])
        // Long enough for the taint to be seen even while the leading control plane changes.
        : kind === 'fill-disk'
          ? rng.int(5_000, 8_000)
          : rng.int(2_000, 4_000);
    if (!free(lanesOf(kind, target, holdMs))) {
      // A long kill needs the control planes and etcd left alone: it waits for them (one at a time).
      if (waiting) holdMs = 20_000;
      else waiting = { kind, atMs: t, holdMs, target };
    }
    if (waiting?.atMs !== t || waiting.kind !== kind) add({ kind, atMs: t, holdMs, target });
    t += rng.int(200, 1_200);
  }
  return out;
}

function agentKind(kind: FaultKind): boolean {
  return lanesOf(kind, 0).includes('agent-0');
}
