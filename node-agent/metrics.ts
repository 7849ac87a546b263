// The agent's Prometheus metrics, one registry per agent (benchmarks run many in a process):
// pods by phase and containers by state (read at scrape time), probe outcomes, runtime call
// latency and pod start latency (bound -> all containers running).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Runtime } from './runtime/runtime.js';

export interface PodCounts {
  podsByPhase(): Record<string, number>;
  containersByState(): Record<string, number>;
}

export class AgentMetrics {
  readonly registry = new Registry();
  readonly probes: Counter<'probe' | 'result'>;
  readonly runtimeLatency: Histogram<'operation' | 'outcome'>;
  readonly podStartLatency: Histogram;

  constructor(nodeName: string, counts: () => PodCounts | undefined) {
    this.registry.setDefaultLabels({ node: nodeName });
    new Gauge({
      name: 'skiff_agent_pods',
      help: 'Pods on this node by phase',
      labelNames: ['phase'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [phase, n] of Object.entries(counts()?.podsByPhase() ?? {})) this.set({ phase }, n);
      },
    });
    new Gauge({
      name: 'skiff_agent_containers',
      help: 'Containers on this node by state',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [state, n] of Object.entries(counts()?.containersByState() ?? {})) this.set({ state }, n);
      },
    });
    this.probes = new Counter({
      name: 'skiff_agent_probe_results_total',
      help: 'Probe outcomes by probe kind and result',
      labelNames: ['probe', 'result'],
      registers: [this.registry],
    });
    this.runtimeLatency = new Histogram({
      name: 'skiff_agent_runtime_call_seconds',
      help: 'Latency of runtime calls',
      labelNames: ['operation', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: [this.registry],
    });
    this.podStartLatency = new Histogram({
      name: 'skiff_agent_pod_start_seconds',
      help: 'Time from a pod being bound to this node to all its containers running',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers: [this.registry],
    });
  }

  probeResult(probe: string, ok: boolean): void {
    this.probes.inc({ probe, result: ok ? 'success' : 'failure' });
  }

  /** The runtime with each call timed into runtimeLatency. */
  timed(rt: Runtime): Runtime {
    const hist = this.runtimeLatency;
    return new Proxy(rt, {
      get(target, prop, receiver) {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function' || prop === 'waitContainer' || prop === 'constructor') {
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        }
        const fn = v as (...a: unknown[]) => unknown;
        return (...args: unknown[]) => {
          const end = hist.startTimer({ operation: String(prop) });
          const out = fn.apply(target, args);
          if (out instanceof Promise) {
            return out.then(
              (r: unknown) => {
                end({ outcome: 'ok' });
                return r;
              },
              (e: unknown) => {
                end({ outcome: 'error' });
                throw e;
              },
            );
          }
          end({ outcome: 'ok' });
          return out;
        };
      },
    });
  }
}
