// Where a pod's start spends its time. Per pod: created (creationTimestamp, milliseconds) ->
// scheduled (the binding first observed in this process: by the bench watch or by the node's
// agent, whichever is first; the bench watch alone lags under load) -> the agent saw it ->
// sandbox ready -> first container started -> Running reported (the agent's status post
// answered) -> the client sees Running (the bench watch). All marks but creation are taken
// in this process on one clock (the agents run here); creation is the API server's clock,
// the same machine's.
import type { NodeAgent } from '../node-agent/agent.js';
import type { PodTracker } from './pod-tracker.js';
import { summarize, type Summary } from './stats.js';

export const MARKS = ['created', 'scheduled', 'agentSeen', 'sandboxReady', 'containerStarted', 'runningReported', 'clientRunning'] as const;
export type Mark = (typeof MARKS)[number];
export type PodMarks = Partial<Record<Mark, number>>;

export interface TraceReport {
  /** Pods with every mark (others are left out of the phases). */
  pods: number;
  /** ms between consecutive marks, e.g. "created->scheduled". */
  phases: Record<string, Summary>;
  /** created -> clientRunning. */
  total: Summary;
}

/** Per-phase percentiles over the pods that have every mark. */
export function traceReport(marks: Iterable<PodMarks>): TraceReport {
  const complete = [...marks].filter((m) => MARKS.every((k) => m[k] !== undefined)) as Record<Mark, number>[];
  const phases: Record<string, Summary> = {};
  for (let i = 1; i < MARKS.length; i++) {
    const [a, b] = [MARKS[i - 1]!, MARKS[i]!];
    phases[`${a}->${b}`] = summarize(complete.map((m) => m[b] - m[a]));
  }
  return { pods: complete.length, phases, total: summarize(complete.map((m) => m.clientRunning - m.created)) };
}

/** The human lines for a report. */
export function traceSummary(r: TraceReport, indent = '  '): string {
  const w = Math.max(...Object.keys(r.phases).map((k) => k.length));
  return [
    `${indent}per-pod trace of ${r.pods} pods (ms, p50 / p99):`,
    ...Object.entries(r.phases).map(([k, s]) => `${indent}  ${k.padEnd(w)}  ${String(s.p50).padStart(8)} / ${s.p99}`),
    `${indent}  ${'created->clientRunning'.padEnd(w)}  ${String(r.total.p50).padStart(8)} / ${r.total.p99}`,
  ].join('\n');
}

/** Collects the marks of the pods a tracker sees, from the tracker and the agents' events. */
export class PodTrace {
  private readonly byKey = new Map<string, PodMarks>();

  constructor(tracker: PodTracker, agents: readonly NodeAgent[], private readonly keep: (name: string) => boolean = () => true) {
    tracker.onPod((_type, pod, now) => {
      const name = pod.metadata?.name ?? '';
      if (!this.keep(name)) return;
      const m = this.marks(`${pod.metadata?.namespace ?? ''}/${name}`);
      if (m.created === undefined) m.created = Date.parse(pod.metadata?.creationTimestamp ?? '');
      if (m.scheduled === undefined && pod.spec?.nodeName) m.scheduled = now;
      if (m.clientRunning === undefined && pod.status?.phase === 'Running') m.clientRunning = now;
    });
    for (const a of agents) {
      a.events.on('podSeen', ({ pod }) => {
        this.first(pod, 'agentSeen');
        const m = this.byKey.get(pod);
        if (m && (m.scheduled === undefined || m.scheduled > (m.agentSeen ?? Infinity))) m.scheduled = m.agentSeen;
      });
      a.events.on('sandboxReady', ({ pod }) => this.first(pod, 'sandboxReady'));
      a.events.on('containerStarted', ({ pod, attempt }) => attempt === 0 && this.first(pod, 'containerStarted'));
      a.events.on('statusPosted', ({ pod, phase }) => phase === 'Running' && this.first(pod, 'runningReported'));
    }
  }

  report(): TraceReport {
    return traceReport(this.byKey.values());
  }

  private marks(key: string): PodMarks {
    let m = this.byKey.get(key);
    if (!m) this.byKey.set(key, (m = {}));
    return m;
  }

  private first(key: string, mark: Mark): void {
    if (!this.keep(key.slice(key.indexOf('/') + 1))) return;
    const m = this.marks(key);
    if (m[mark] === undefined) m[mark] = Date.now();
  }
}
