// Where a rolling update's time goes: from a ReplicaSet watch, a pod watch and the node agents'
// events (same process, one clock), the steps of each wave. Pure over the recorded marks, so
// the same report comes from a real node (real-rollout.ts) or a test's hand-made marks.
//   Deployment controller: old ReplicaSet scaled down -> (old pods terminating, status drops)
//   -> new ReplicaSet scaled up -> ReplicaSet controller creates pods (slow start 1, 2, 4..) ->
//   scheduled -> agent starts them -> Running reported -> new ReplicaSet's status counts them
//   available -> the Deployment controller scales the old one down again.
import { summarize, type Summary } from './stats.js';

/** One ReplicaSet as a watch event showed it. */
export interface RsMark {
  at: number;
  /** 'old' or 'new' (by pod template). */
  side: 'old' | 'new';
  spec: number;
  replicas: number;
  available: number;
}

/** One pod's marks (ms on this process's clock; created is the API server's, same machine). */
export interface PodLife {
  side: 'old' | 'new';
  created?: number;
  scheduled?: number;
  runningReported?: number;
  clientRunning?: number;
  /** The pod watch first showed its deletionTimestamp. */
  terminating?: number;
  /** The agent had stopped it, removed its sandbox and confirmed the deletion. */
  tornDown?: number;
  deleted?: number;
}

export interface RolloutTimeline {
  /** ms from the template change until every new pod runs and no old one does (the vs-swarm figure). */
  totalMs: number;
  /** Scale steps of each side, ms after the template change: [ms, spec]. */
  steps: { old: [number, number][]; new: [number, number][] };
  /** ms per phase, over pods (see the phase names). */
  phases: Record<string, Summary>;
}

/** When a side's spec changed: [at, spec], in time order (the first mark counts as a change). */
function specChanges(marks: readonly RsMark[], side: 'old' | 'new'): [number, number][] {
  const out: [number, number][] = [];
  for (const m of marks) if (m.side === side && out[out.length - 1]?.[1] !== m.spec) out.push([m.at, m.spec]);
  return out;
}

/** The side's spec as of time t (undefined before its first mark). */
const specAt = (changes: readonly [number, number][], t: number): number | undefined => [...changes].reverse().find(([at]) => at <= t)?.[1];

/**
 * The report over a rollout that started (template changed) at t0:
 *  - new pods: "scaled->created" (their ReplicaSet's scale-up that made room for them -> the
 *    pod exists: the Deployment pass already happened, this is the slow start's round trips),
 *    "created->scheduled", "scheduled->runningReported" (the agent's start), "runningReported->
 *    countedAvailable" (the ReplicaSet status that first counts as many available as this pod's
 *    rank), "countedAvailable->oldScaledDown" (the old ReplicaSet's next scale-down after it);
 *  - old pods: "scaledDown->terminating" (the old ReplicaSet's scale-down -> the pod watch shows
 *    its deletionTimestamp), "terminating->newScaledUp" (-> the new ReplicaSet's next scale-up),
 *    "terminating->tornDown", "tornDown->deleted".
 */
export function rolloutTimeline(t0: number, done: number, rs: readonly RsMark[], pods: readonly PodLife[]): RolloutTimeline {
  const marks = [...rs].sort((a, b) => a.at - b.at);
  const changes = { old: specChanges(marks, 'old'), new: specChanges(marks, 'new') };
  const steps = {
    old: changes.old.filter(([at]) => at >= t0).map(([at, n]): [number, number] => [at - t0, n]),
    new: changes.new.filter(([at]) => at >= t0).map(([at, n]): [number, number] => [at - t0, n]),
  };
  const phases: Record<string, number[]> = {};
  const add = (k: string, v: number | undefined): void => {
    if (v !== undefined && Number.isFinite(v)) (phases[k] ??= []).push(v);
  };
  // New pods in creation order; the k-th (1-based) needed the new ReplicaSet's spec to reach k.
  const fresh = pods.filter((p) => p.side === 'new' && p.created !== undefined).sort((a, b) => a.created! - b.created!);
  fresh.forEach((p, i) => {
    const scaled = changes.new.find(([at, n]) => at >= t0 && n >= i + 1)?.[0];
    add('new: scaled->created', scaled === undefined ? undefined : p.created! - scaled);
    add('new: created->scheduled', p.scheduled === undefined ? undefined : p.scheduled - p.created!);
    add('new: scheduled->runningReported', p.runningReported === undefined || p.scheduled === undefined ? undefined : p.runningReported - p.scheduled);
  });
  // The k-th pod to report Running is counted by the first status with k available.
  const byRunning = fresh.filter((p) => p.runningReported !== undefined).sort((a, b) => a.runningReported! - b.runningReported!);
  byRunning.forEach((p, i) => {
    const counted = marks.find((m) => m.side === 'new' && m.at >= t0 && m.available >= i + 1)?.at;
    add('new: runningReported->countedAvailable', counted === undefined ? undefined : counted - p.runningReported!);
    if (counted === undefined) return;
    const before = specAt(changes.old, counted);
    const down = changes.old.find(([at, n]) => at >= counted && before !== undefined && n < before)?.[0];
    add('new: countedAvailable->oldScaledDown', down === undefined ? undefined : down - counted);
  });
  for (const p of pods) {
    if (p.side !== 'old' || p.terminating === undefined || p.terminating < t0) continue;
    const term = p.terminating;
    const scaledDown = [...changes.old].reverse().find(([at]) => at <= term)?.[0];
    add('old: scaledDown->terminating', scaledDown === undefined ? undefined : term - scaledDown);
    const newBefore = specAt(changes.new, term) ?? 0;
    const up = changes.new.find(([at, n]) => at >= term && n > newBefore)?.[0];
    add('old: terminating->newScaledUp', up === undefined ? undefined : up - term);
    add('old: terminating->tornDown', p.tornDown === undefined ? undefined : p.tornDown - term);
    add('old: tornDown->deleted', p.deleted === undefined || p.tornDown === undefined ? undefined : p.deleted - p.tornDown);
  }
  return { totalMs: done - t0, steps, phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, summarize(v)])) };
}

/** The human lines for a timeline. */
export function timelineSummary(t: RolloutTimeline, indent = '  '): string {
  const w = Math.max(...Object.keys(t.phases).map((k) => k.length), 10);
  const fmt = (s: [number, number][]): string => s.map(([ms, n]) => `${n}@${ms}`).join(' ');
  return [
    `${indent}rolling update done in ${t.totalMs} ms`,
    `${indent}  old ReplicaSet spec@ms: ${fmt(t.steps.old)}`,
    `${indent}  new ReplicaSet spec@ms: ${fmt(t.steps.new)}`,
    ...Object.entries(t.phases).map(([k, s]) => `${indent}  ${k.padEnd(w)}  p50 ${String(s.p50).padStart(6)} / p99 ${String(s.p99).padStart(6)} (n ${s.count})`),
  ].join('\n');
}
