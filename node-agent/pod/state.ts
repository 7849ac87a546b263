// The state one pod worker keeps, shared by its parts (sync, prober manager, status, teardown):
// the pod object as last seen, the runtime record, and one ContainerRun per container.
import type { Container, Pod } from '../../proto/gen/skiff/v1/core.js';
import type { AgentApi } from '../api-client.js';
import type { BackoffOptions } from '../backoff.js';
import type { Clock } from '../../proto/api/clock.js';
import type { AgentEvents } from '../events.js';
import type { AgentMetrics } from '../metrics.js';
import type { PodConfigSource } from '../config/index.js';
import type { ClaimPathResolver, PodPaths } from '../pod-config.js';
import { saveRecord, type PodRecord } from '../pod-record.js';
import type { Runtime, SandboxDns } from '../runtime/runtime.js';
import type { Logger } from 'pino';
import { newRun, type ContainerRun } from './container-run.js';
import type { Semaphore } from '../../proto/api/semaphore.js';
import type { StatusWriter } from './status-writer.js';
import type { PodWorker } from './worker.js';

/** What the agent gives every pod worker. */
export interface WorkerContext {
  api: AgentApi;
  runtime: Runtime;
  clock: Clock;
  log: Logger;
  stateDir: string;
  hostIP: string;
  backoff: BackoffOptions;
  metrics: AgentMetrics;
  events: AgentEvents;
  /** The agent's one status writer (batches and retries the status posts of all pods). */
  status: StatusWriter;
  /** Bounds the sandbox and container start calls in flight across the node (absent: none). */
  startSlots?: Semaphore;
  /**
   * Before a graceful stop: waits (bounded) until no node's proxy sends new connections to the
   * pod's IP, so stopping it drops no request. Absent when the node runs no Service proxy.
   */
  awaitEndpointGone?(podIP: string, timeoutMs: number): Promise<void>;
  /** The pod's resolver per its dnsPolicy; absent when the node runs no cluster DNS. */
  podDns?(pod: Pod): SandboxDns | undefined;
  /** How often emptyDirs with a sizeLimit on disk are measured (default 10 s). */
  volumeStatsPeriodMs?: number;
  /** Called once when the worker has torn its pod down. */
  onTornDown(w: PodWorker): void;
  /** Where a persistentVolumeClaim volume is on this node. */
  claimPath?: ClaimPathResolver;
  /** ConfigMaps and Secrets: env, configMap/secret volumes, pull credentials (absent: none resolved). */
  config?: PodConfigSource;
}

export class PodState {
  /** The object is gone from the API (force-deleted, or no longer bound here). */
  gone = false;
  closed = false;
  recordDirMade = false;
  /** Why the whole pod is not running (e.g. FailedCreatePodSandBox). */
  podError: { reason: string; message: string } | undefined;
  readonly runs = new Map<string, ContainerRun>();
  /** The pod's volumes are set up (once per worker: tmpfs mounts survive an agent restart). */
  volumesReady = false;
  /**
   * The pod is over: failed for a reason of its own (DeadlineExceeded, Evicted) or found
   * terminal (Succeeded/Failed). Nothing is started again; the phase and reason stay.
   */
  final: { phase: string; reason: string; message: string } | undefined;

  constructor(
    public pod: Pod,
    readonly key: string,
    readonly paths: PodPaths,
    public record: PodRecord,
    private readonly backoff: BackoffOptions,
  ) {
    for (const [name, cr] of Object.entries(record.containers)) {
      const run = newRun(backoff, cr.restartCount, cr.lastTerminated);
      run.previous = cr.previous;
      this.runs.set(name, run);
    }
  }

  get terminating(): boolean {
    return this.gone || !!this.pod.metadata?.deletionTimestamp;
  }

  /** The container's run, made on first use. */
  run(name: string, restartCount = 0): ContainerRun {
    let r = this.runs.get(name);
    if (!r) {
      r = newRun(this.backoff, restartCount);
      this.runs.set(name, r);
    }
    return r;
  }

  containerSpec(name: string): Container | undefined {
    return this.pod.spec?.containers.find((c) => c.name === name) ?? this.pod.spec?.initContainers.find((c) => c.name === name);
  }

  isInit(name: string): boolean {
    return this.pod.spec?.initContainers.some((c) => c.name === name) ?? false;
  }

  /** Where probes and hooks dial by default: the pod IP, or loopback for host networking. */
  get defaultHost(): string {
    return this.pod.spec?.hostNetwork ? '127.0.0.1' : this.record.sandbox?.podIP || '127.0.0.1';
  }

  /** Writes the record (runtime handles, restart history) for re-attaching after a restart. */
  async persist(): Promise<void> {
    const containers: PodRecord['containers'] = {};
    for (const [name, r] of this.runs) {
      containers[name] = { handle: r.handle, previous: r.previous, restartCount: r.restartCount, lastTerminated: r.lastTerminated };
    }
    this.record.containers = containers;
    await saveRecord(this.paths.podDir, this.record, this.recordDirMade);
    this.recordDirMade = true;
  }
}
