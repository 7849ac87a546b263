// The prober manager of one pod (the kubelet's prober.Manager): one ProbeWorker per probe of
// each running container attempt. The startup probe gates liveness and readiness; readiness
// only flips the container's ready flag; a failed liveness or startup probe asks for a kill.
import type { Logger } from 'pino';
import type { Container } from '../../proto/gen/skiff/v1/core.js';
import type { Clock } from '../../proto/api/clock.js';
import type { AgentMetrics } from '../metrics.js';
import type { ContainerHandle, Runtime } from '../runtime/runtime.js';
import { probeCheck, ProbeConfigError } from './handlers.js';
import { probeTiming, type ProbeKind } from './spec.js';
import { ProbeWorker } from './worker.js';

/** The container attempt the probes watch; the manager sets started and ready on it. */
export interface ProbedContainer {
  handle?: ContainerHandle;
  exit?: unknown;
  started: boolean;
  ready: boolean;
}

export interface ProberManagerOptions {
  podKey: string;
  runtime: Runtime;
  clock: Clock;
  log: Logger;
  metrics: AgentMetrics;
  /** Where httpGet/tcpSocket probes dial when the probe names no host. */
  defaultHost(): string;
  /** started or ready changed: the pod's status is due. */
  changed(): void;
  /** A liveness or startup probe failed its threshold. */
  failed(container: string, kind: ProbeKind): void;
}

export class ProberManager {
  private readonly workers = new Map<string, Partial<Record<ProbeKind, ProbeWorker>>>();

  constructor(private readonly o: ProberManagerOptions) {}

  /** Starts the probes of a container attempt that runs now (replacing any of an older attempt). */
  start(c: Container, run: ProbedContainer): void {
    this.stop(c.name);
    const probes: Partial<Record<ProbeKind, ProbeWorker>> = {};
    this.workers.set(c.name, probes);
    const h = run.handle;
    const make = (kind: ProbeKind, onVerdict: (passing: boolean) => void): ProbeWorker | undefined => {
      const p = kind === 'liveness' ? c.livenessProbe : kind === 'readiness' ? c.readinessProbe : c.startupProbe;
      if (!p) return undefined;
      let check;
      try {
        check = probeCheck(p, { container: c, defaultHost: this.o.defaultHost(), runtime: this.o.runtime, handle: () => run.handle });
      } catch (e) {
        if (!(e instanceof ProbeConfigError)) throw e;
        this.o.log.warn({ pod: this.o.podKey, container: c.name, probe: kind, err: e.message }, 'probe ignored');
        return undefined;
      }
      const w = new ProbeWorker({
        kind, timing: probeTiming(kind, p), check, clock: this.o.clock,
        onOutcome: (ok) => this.o.metrics.probeResult(kind, ok),
        onVerdict: (passing) => {
          // A verdict about an attempt that has exited or been replaced is stale.
          if (run.handle !== h || run.exit) return;
          onVerdict(passing);
        },
      });
      probes[kind] = w;
      w.start();
      return w;
    };
    const startMain = (): void => {
      run.started = true;
      const readiness = make('readiness', (passing) => {
        run.ready = passing;
        this.o.changed();
      });
      run.ready = !readiness;
      make('liveness', (passing) => {
        if (!passing) this.o.failed(c.name, 'liveness');
      });
      this.o.changed();
    };
    run.started = false;
    run.ready = false;
    const startup = make('startup', (passing) => {
      if (passing) startMain();
      else this.o.failed(c.name, 'startup');
    });
    if (!startup) startMain();
  }

  stop(container: string): void {
    const probes = this.workers.get(container);
    if (!probes) return;
    for (const w of Object.values(probes)) w.stop();
    this.workers.delete(container);
  }

  stopAll(): void {
    for (const name of [...this.workers.keys()]) this.stop(name);
  }
}
