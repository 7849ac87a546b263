// The fault schedule: a pure function of (seed, duration, bed shape). Faults run one at a time
// with a quiet gap between them, so every instant is either inside exactly one fault window or
// in a quiet period, which is what the checker's windowed invariants rely on.
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
}

export function planFaults(o: ScheduleOptions): PlannedFault[] {
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
