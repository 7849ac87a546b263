// Samples every running container's CPU and memory through the runtime (CRI
// ListContainerStats) every interval and keeps the latest usage for NodeAgent.Stats, as the
// kubelet's summary feeds metrics-server. One reading in flight at a time.
import type { Logger } from 'pino';
import type { NodeStats } from '../../proto/gen/skiff/v1/agent.js';
import type { ContainerStatsSample, Runtime } from '../runtime/runtime.js';
import { computeUsage, type PodContainer } from './usage.js';

export interface StatsSamplerOptions {
  nodeName: string;
  runtime: Runtime;
  /** The node's pods' running containers right now. */
  containers: () => PodContainer[];
  intervalMs: number;
  log: Logger;
}

export class StatsSampler {
  private previous: ContainerStatsSample[] | undefined;
  private latestStats: NodeStats;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: StatsSamplerOptions) {
    this.latestStats = { nodeName: opts.nodeName, timestamp: '', windowSeconds: 0, cpuNanoCores: 0, memoryWorkingSetBytes: 0, pods: [] };
  }

  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.opts.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** The usage from the last two readings ("" timestamp before there were two). */
  latest(): NodeStats {
    return this.latestStats;
  }

  /** Takes one reading now (the timer calls it; tests call it to step time by hand). */
  sample(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.read().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async read(): Promise<void> {
    let current: ContainerStatsSample[];
    try {
      current = await this.opts.runtime.listStats();
    } catch (e) {
      this.opts.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'reading container stats failed');
      return;
    }
    if (this.previous) {
      this.latestStats = computeUsage(this.opts.nodeName, this.previous, current, this.opts.containers(), Date.now());
    }
    this.previous = current;
  }
}
