// One pod on this node, level-based: each pass compares the pod's spec (desired) with what the
// runtime has (actual) and takes the steps that are due (sync.ts), then hands the resulting
// status to the agent's status writer. Exits, probe verdicts and timers only mark the pod
// dirty; passes never overlap. A pod with a deletionTimestamp (or gone from the API) is torn
// down (teardown.ts) and, when still present, confirmed deleted with gracePeriodSeconds=0.
import type { Pod, PodStatus } from '../../proto/gen/skiff/v1/core.js';
import type { Timer } from '../../proto/api/clock.js';
import { rfc3339 } from '../heartbeat.js';
import { podPaths } from '../pod-config.js';
import type { PodRecord } from '../pod-record.js';
import { ProberManager } from '../probes/manager.js';
import type { ContainerHandle, ContainerInfo } from '../runtime/runtime.js';
import { exitOf, newRun } from './container-run.js';
import { PodState, type WorkerContext } from './state.js';
import { podStatusOf } from './status.js';
import { PodSync } from './sync.js';
import { PodKiller } from './teardown.js';
import { emptyDirOverLimit, hasDiskSizeLimit } from './volumes.js';

/** How often on-disk emptyDirs with a sizeLimit are measured (the kubelet's housekeeping is 10 s). */
const DEFAULT_VOLUME_STATS_PERIOD_MS = 10_000;

export type { WorkerContext } from './state.js';

export class PodWorker {
  /** Teardown finished: the agent drops this worker. */
  done = false;
  readonly uid: string;
  readonly key: string;
  private readonly s: PodState;
  private readonly probes: ProberManager;
  private readonly podSync: PodSync;
  private readonly killer: PodKiller;
  private running = false;
  private dirty = false;
  private retryTimer: Timer | undefined;
  private retries = 0;
  /** The status last computed (conditions keep their transition times from it). */
  private lastStatus: PodStatus | undefined;
  private readonly firstSeenMs: number;
  private deadlineTimer: Timer | undefined;
  private volumeTimer: Timer | undefined;
  private volumeCheckDue = false;
  private startObserved = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    pod: Pod,
    private readonly ctx: WorkerContext,
    record?: PodRecord,
  ) {
    const m = pod.metadata!;
    this.uid = m.uid;
    this.key = `${m.namespace}/${m.name}`;
    this.firstSeenMs = ctx.clock.now();
    this.s = new PodState(
      pod, this.key, podPaths(ctx.stateDir, m),
      record ?? { version: 1, uid: m.uid, namespace: m.namespace, name: m.name, startTime: '', containers: {} },
      ctx.backoff,
    );
    this.probes = new ProberManager({
      podKey: this.key, runtime: ctx.runtime, clock: ctx.clock, log: ctx.log, metrics: ctx.metrics,
      defaultHost: () => this.s.defaultHost,
      changed: () => this.kick(),
      failed: (name, kind) => this.killer.killForProbe(name, kind),
    });
    this.podSync = new PodSync(this.s, ctx, this.probes, () => this.kick(), () => this.publishStatus());
    this.killer = new PodKiller(this.s, ctx, this.probes, () => this.kick());
    if (m.resourceVersion) ctx.status.observe(pod);
  }

  get pod(): Pod {
    return this.s.pod;
  }

  /** The object is gone from the API (force-deleted, or no longer bound here). */
  get gone(): boolean {
    return this.s.gone;
  }

  /** The pod's status as this agent sees it: the latest computed, else the stored one. */
  get status(): PodStatus | undefined {
    return this.lastStatus ?? this.s.pod.status;
  }

  /** Re-attaches to a container found by runtime.discover() (agent restart). */
  adopt(handle: ContainerHandle, info: ContainerInfo): void {
    const s = this.s;
    const cr = s.record.containers[handle.name];
    const run = s.runs.get(handle.name) ?? newRun(this.ctx.backoff, cr?.restartCount ?? handle.attempt, cr?.lastTerminated);
    run.handle = handle;
    run.imageRef = info.imageRef;
    run.startedAt = info.startedAt;
    run.startedAtMs = info.startedAt ? Date.parse(info.startedAt) : this.ctx.clock.now();
    s.runs.set(handle.name, run);
    if (info.state === 'exited') {
      run.exit = exitOf(info);
      run.exitSeenMs = Date.parse(info.finishedAt) || this.ctx.clock.now();
    } else {
      this.podSync.watchExit(handle.name, run, handle);
      const c = s.containerSpec(handle.name);
      if (s.isInit(handle.name)) run.started = true;
      else if (c) this.probes.start(c, run);
    }
  }

  adoptPrevious(handle: ContainerHandle): void {
    const run = this.s.runs.get(handle.name);
    if (run && !run.previous && run.handle?.containerId !== handle.containerId) run.previous = handle;
  }

  get containerCount(): number {
    let n = 0;
    for (const r of this.s.runs.values()) if (r.handle && !r.exit) n++;
    return n;
  }

  /**
   * Where port-forward dials the pod: its sandbox IP, or loopback for a host-network pod (it
   * listens on the node). Undefined while the pod has no sandbox.
   */
  forwardHost(): string | undefined {
    if (this.s.pod.spec?.hostNetwork) return '127.0.0.1';
    return this.s.record.sandbox?.podIP || undefined;
  }

  /** The handle of a container that runs now (exec's target); undefined when it does not run. */
  runningHandle(container: string): ContainerHandle | undefined {
    const run = this.s.runs.get(container);
    return run?.handle && !run.exit ? run.handle : undefined;
  }

  /** Log file of a container: its current attempt, or the one before with previous. */
  logFile(container: string, previous: boolean): { path: string; running: () => boolean } | undefined {
    const run = this.s.runs.get(container);
    if (!run) return undefined;
    const attempt = run.handle ? run.handle.attempt : run.restartCount;
    const a = previous ? attempt - 1 : attempt;
    if (a < 0) return undefined;
    return { path: `${this.s.paths.logDir}/${container}/${a}.log`, running: () => !previous && !!run.handle && !run.exit };
  }

  update(pod: Pod): void {
    this.s.pod = pod;
    this.ctx.status.observe(pod);
    this.kick();
  }

  /** A ConfigMap or Secret the pod uses changed: containers waiting for it start now, not after their back-off. */
  configChanged(): void {
    for (const run of this.s.runs.values()) if (run.waiting?.reason === 'CreateContainerConfigError') run.restartAt = undefined;
    this.kick();
  }

  markGone(): void {
    this.s.gone = true;
    this.ctx.status.forget(this.uid);
    this.kick();
  }

  /** Schedules a pass (coalesced; never two at once). */
  kick(): void {
    if (this.s.closed) return;
    this.dirty = true;
    if (this.running) return;
    this.running = true;
    this.idle = this.loop();
  }

  /** Waits for the pass in progress. */
  settled(): Promise<void> {
    return this.idle;
  }

  /** Stops timers and probes but leaves containers running (agent shutdown). */
  close(): void {
    this.s.closed = true;
    this.retryTimer?.cancel();
    this.deadlineTimer?.cancel();
    this.volumeTimer?.cancel();
    this.probes.stopAll();
    for (const run of this.s.runs.values()) {
      run.timer?.cancel();
      run.abort?.abort();
    }
  }

  private async loop(): Promise<void> {
    // Never run a pass inside the caller's stack (adopt() kicks while more is being adopted).
    await Promise.resolve();
    try {
      while (this.dirty && !this.s.closed) {
        this.dirty = false;
        try {
          await this.sync();
          this.retries = 0;
        } catch (e) {
          this.retryLater(e);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private retryLater(e: unknown): void {
    this.retries++;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(this.retries - 1, 6));
    const msg = e instanceof Error ? e.message : String(e);
    if (this.retries === 1 || this.retries % 10 === 0) this.ctx.log.warn({ pod: this.key, err: msg, retryMs: delay }, 'pod sync failed');
    this.retryTimer?.cancel();
    this.retryTimer = this.ctx.clock.setTimeout(() => this.kick(), delay);
  }

  private async sync(): Promise<void> {
    if (this.s.terminating) {
      await this.killer.terminate();
      this.finish();
      return;
    }
    const stored = this.s.pod.status;
    const phase = stored?.phase;
    // A finished pod whose sandbox is gone (agent restart after a reboot) keeps its final status.
    if ((phase === 'Succeeded' || phase === 'Failed') && !this.s.record.sandbox) return;
    // Terminal is for good (as in Kubernetes): nothing of a finished pod starts again.
    if ((phase === 'Succeeded' || phase === 'Failed') && !this.s.final) {
      this.s.final = { phase, reason: stored?.reason ?? '', message: stored?.message ?? '' };
    }
    this.checkDeadline();
    if (this.volumeCheckDue && !this.s.final) await this.checkVolumes();
    if (!this.s.final) {
      await this.podSync.ensureRunning();
      await this.ctx.config?.refresh(this.s.pod, this.s.paths);
      this.checkDeadline();
      this.armVolumeCheck();
    }
    if (this.s.final) {
      this.deadlineTimer?.cancel();
      this.volumeTimer?.cancel();
      // Failed first (as the kubelet posts it), then the containers as they stopped.
      this.publishStatus();
      await this.killer.stopAll();
    }
    this.publishStatus();
  }

  /** The pod fails on its own: no more restarts, every container stops. */
  private fail(reason: string, message: string): void {
    this.s.final = { phase: 'Failed', reason, message };
    this.ctx.log.info({ pod: this.key, reason, message }, 'pod failed');
    this.ctx.events.emit('podFailed', { pod: this.key, reason, message });
  }

  /** activeDeadlineSeconds, counted from the pod's startTime (the kubelet's activeDeadlineHandler). */
  private checkDeadline(): void {
    const seconds = this.s.pod.spec?.activeDeadlineSeconds;
    this.deadlineTimer?.cancel();
    this.deadlineTimer = undefined;
    if (seconds === undefined || this.s.final) return;
    const start = Date.parse(this.s.record.startTime || this.s.pod.status?.startTime || '');
    if (Number.isNaN(start)) return;
    const left = start + Number(seconds) * 1000 - this.ctx.clock.now();
    if (left <= 0) {
      this.fail('DeadlineExceeded', 'Pod was active on the node longer than the specified deadline');
      return;
    }
    this.deadlineTimer = this.ctx.clock.setTimeout(() => this.kick(), left);
  }

  /** Pods with an emptyDir sizeLimit on disk are measured every volumeStatsPeriodMs. */
  private armVolumeCheck(): void {
    if (this.volumeTimer || this.s.final || !this.s.volumesReady || !hasDiskSizeLimit(this.s.pod)) return;
    this.volumeTimer = this.ctx.clock.setTimeout(() => {
      this.volumeTimer = undefined;
      this.volumeCheckDue = true;
      this.kick();
    }, this.ctx.volumeStatsPeriodMs ?? DEFAULT_VOLUME_STATS_PERIOD_MS);
  }

  private async checkVolumes(): Promise<void> {
    this.volumeCheckDue = false;
    const over = await emptyDirOverLimit(this.s.pod, this.s.paths);
    // The kubelet's eviction manager words it so.
    if (over) this.fail('Evicted', `Usage of EmptyDir volume "${over.volume}" exceeds the limit "${over.limit}". `);
  }

  /** Computes the status and hands it to the status writer (which posts it when it changed). */
  private publishStatus(): void {
    if (this.s.gone) return;
    const now = this.ctx.clock.now();
    const status = podStatusOf(this.s, this.lastStatus, this.ctx.hostIP, rfc3339(now));
    this.lastStatus = status;
    if (!this.startObserved && status.phase === 'Running' && status.containerStatuses.every((c) => c.state?.running)) {
      this.startObserved = true;
      const scheduled = this.s.pod.status?.conditions.find((c) => c.type === 'PodScheduled')?.lastTransitionTime;
      const from = scheduled ? Math.min(Date.parse(scheduled) || this.firstSeenMs, this.firstSeenMs) : this.firstSeenMs;
      this.ctx.metrics.podStartLatency.observe(Math.max(0, now - from) / 1000);
    }
    this.ctx.status.set(this.s.pod, status);
  }

  private finish(): void {
    this.deadlineTimer?.cancel();
    this.volumeTimer?.cancel();
    this.done = true;
    this.s.closed = true;
    this.retryTimer?.cancel();
    this.ctx.status.forget(this.uid);
    this.ctx.log.info({ pod: this.key }, 'pod torn down');
    this.ctx.events.emit('podTornDown', { pod: this.key, uid: this.uid });
    this.ctx.onTornDown(this);
  }
}
