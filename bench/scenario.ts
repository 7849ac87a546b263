// What every scenario takes and gives back.
import type { Series } from './svg.js';

export type Size = 'smoke' | 'small' | 'large';

export interface ScenarioOptions {
  size: Size;
  nodes: number;
  pods: number;
  /** Start latency of the fake runtime's containers and sandboxes (ms). */
  startMs: number;
  timeoutMs: number;
  ceilingSeconds: number;
  /** Write a V8 CPU profile of the control-plane child here. */
  cpuProfDir?: string;
  /** density: write a V8 heap snapshot of the control plane here once every pod runs. */
  heapSnapshotDir?: string;
  /** density's latency phase: pods created per second, for this many seconds (0: no latency phase). */
  rate?: number;
  durationSeconds?: number;
  /** real-node: the agent's bound on start calls in flight (undefined: the agent's default; 0: none). */
  maxParallelStarts?: number;
  /** real-rollout: rolling updates to run one after another. */
  rounds?: number;
}

export interface ScenarioResult {
  json: Record<string, unknown>;
  summary: string;
  series: Series[];
}
