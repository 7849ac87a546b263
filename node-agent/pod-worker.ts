// One pod on this node, level-based: each pass compares the pod's spec (desired) with what the
// runtime has (actual) and takes the steps that are due: sandbox, volumes, containers in order,
// restarts after back-off, probes, status. Exits, probe verdicts and timers only mark the pod
// dirty; passes never overlap. A pod with a deletionTimestamp (or gone from the API) is torn
// down and, when still present, confirmed deleted with gracePeriodSeconds=0.
import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { isApiError } from '../proto/api/errors.js';
import type { Container, ContainerState, ContainerStateTerminated, LifecycleHandler, Pod } from '../proto/gen/skiff/v1/core.js';
import type { AgentApi } from './api-client.js';
import type { PodConfigSource } from './config/index.js';
import { backoffMessage, CrashLoopBackoff, type BackoffOptions } from './backoff.js';
import { sleep, type Clock, type Timer } from '../proto/api/clock.js';
import type { AgentEvents } from './events.js';
import { rfc3339 } from './heartbeat.js';
import type { AgentMetrics } from './metrics.js';
import { containerConfig, containerMounts, podPaths, pullPolicy, sandboxConfig, type PodPaths } from './pod-config.js';
import { saveRecord, type PodRecord } from './pod-record.js';
import { computePodStatus, statusEqual, waiting, willRestart, type ContainerView } from './pod-status.js';
import { probeCheck, ProbeConfigError } from './probes/handlers.js';
import { probeTiming, type ProbeKind } from './probes/spec.js';
import { ProbeWorker } from './probes/worker.js';
import { RuntimeError, type ContainerHandle, type ContainerInfo, type ExitResult, type Runtime, type SandboxDns } from './runtime/runtime.js';

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
  /**
   * Before a graceful stop: waits (bounded) until no node's proxy sends new connections to the
   * pod's IP, so stopping it drops no request. Absent when the node runs no Service proxy.
   */
  awaitEndpointGone?(podIP: string, timeoutMs: number): Promise<void>;
  /** The pod's resolver per its dnsPolicy; absent when the node runs no cluster DNS. */
  podDns?(pod: Pod): SandboxDns | undefined;
  /** ConfigMaps and Secrets: env, configMap/secret volumes, pull credentials (absent: none resolved). */
  config?: PodConfigSource;
  /** Called once when the worker has torn its pod down. */
  onTornDown(w: PodWorker): void;
}

interface ContainerRun {
  handle?: ContainerHandle;
  /** The attempt before handle, kept (exited) for its logs until the next restart. */
  previous?: ContainerHandle;
  /** running until an exit is seen. */
  exit?: ExitResult;
  /** Agent clock time the exit was seen (run length for the back-off reset). */
  exitSeenMs?: number;
  startedAt: string;
  startedAtMs: number;
  imageRef: string;
  restartCount: number;
  lastTerminated?: ContainerStateTerminated;
  /** Why the container is not running yet (ContainerCreating, ErrImagePull, ...). */
  waiting?: { reason: string; message: string };
  startFailures?: number;
  backoff: CrashLoopBackoff;
  /** Set while waiting out a back-off before the next start. */
  restartAt?: number;
  timer?: Timer;
  probes: Partial<Record<ProbeKind, ProbeWorker>>;
  started: boolean;
  ready: boolean;
  abort?: AbortController;
}

const DEFAULT_GRACE_SECONDS = 30;
/** Longest a graceful stop waits for the proxies to drop the pod (an unreachable node must not hold it). */
const ENDPOINT_DRAIN_MAX_MS = 5_000;
/** The kubelet's minimumGracePeriodInSeconds: what a container gets to stop after its preStop hook. */
const MIN_GRACE_AFTER_HOOK_SECONDS = 2;

export class PodWorker {
  pod: Pod;
  /** The object is gone from the API (force-deleted, or no longer bound here). */
  gone = false;
  /** Teardown finished: the agent drops this worker. */
  done = false;
  readonly uid: string;
  readonly key: string;
  private readonly paths: PodPaths;
  private readonly runs = new Map<string, ContainerRun>();
  private record: PodRecord;
  private running = false;
  private dirty = false;
  private retryTimer: Timer | undefined;
  private retries = 0;
  private lastSent: Pod['status'];
  private recordDirMade = false;
  private lastSentRv = '';
  private podError: { reason: string; message: string } | undefined;
  private readonly firstSeenMs: number;
  private startObserved = false;
  private closed = false;
  /** Containers whose preStop hook ran (once per pod, even if teardown is retried). */
  private readonly preStopRan = new Set<string>();
  private idle: Promise<void> = Promise.resolve();

  constructor(
    pod: Pod,
    private readonly ctx: WorkerContext,
    record?: PodRecord,
  ) {
    this.pod = pod;
    const m = pod.metadata!;
    this.uid = m.uid;
    this.key = `${m.namespace}/${m.name}`;
    this.paths = podPaths(ctx.stateDir, m);
    this.firstSeenMs = ctx.clock.now();
    this.record = record ?? {
      version: 1, uid: m.uid, namespace: m.namespace, name: m.name, startTime: '', containers: {},
    };
    for (const [name, cr] of Object.entries(this.record.containers)) {
      const run = this.newRun(cr.restartCount, cr.lastTerminated);
      run.previous = cr.previous;
      this.runs.set(name, run);
    }
  }

  /** Re-attaches to a container found by runtime.discover() (agent restart). */
  adopt(handle: ContainerHandle, info: ContainerInfo): void {
    const cr = this.record.containers[handle.name];
    const run = this.runs.get(handle.name) ?? this.newRun(cr?.restartCount ?? handle.attempt, cr?.lastTerminated);
    run.handle = handle;
    run.imageRef = info.imageRef;
    run.startedAt = info.startedAt;
    run.startedAtMs = info.startedAt ? Date.parse(info.startedAt) : this.ctx.clock.now();
    this.runs.set(handle.name, run);
    if (info.state === 'exited') {
      run.exit = {
        exitCode: info.exitCode ?? 0, reason: info.reason, message: info.message, finishedAt: info.finishedAt,
        oomKilled: info.reason === 'OOMKilled',
      };
      run.exitSeenMs = Date.parse(info.finishedAt) || this.ctx.clock.now();
    } else {
      this.watchExit(handle.name, run, handle);
      this.startProbes(handle.name, run);
    }
  }

  adoptPrevious(handle: ContainerHandle): void {
    const run = this.runs.get(handle.name);
    if (run && !run.previous && run.handle?.containerId !== handle.containerId) run.previous = handle;
  }

  get containerCount(): number {
    let n = 0;
    for (const r of this.runs.values()) if (r.handle && !r.exit) n++;
    return n;
  }

  /**
   * Where port-forward dials the pod: its sandbox IP, or loopback for a host-network pod (it
   * listens on the node). Undefined while the pod has no sandbox.
   */
  forwardHost(): string | undefined {
    if (this.pod.spec?.hostNetwork) return '127.0.0.1';
    return this.record.sandbox?.podIP || undefined;
  }

  /** The handle of a container that runs now (exec's target); undefined when it does not run. */
  runningHandle(container: string): ContainerHandle | undefined {
    const run = this.runs.get(container);
    return run?.handle && !run.exit ? run.handle : undefined;
  }

  /** Log file of a container: its current attempt, or the one before with previous. */
  logFile(container: string, previous: boolean): { path: string; running: () => boolean } | undefined {
    const run = this.runs.get(container);
    if (!run) return undefined;
    const attempt = run.handle ? run.handle.attempt : run.restartCount;
    const a = previous ? attempt - 1 : attempt;
    if (a < 0) return undefined;
    return { path: `${this.paths.logDir}/${container}/${a}.log`, running: () => !previous && !!run.handle && !run.exit };
  }

  update(pod: Pod): void {
    this.pod = pod;
    this.kick();
  }

  /** A ConfigMap or Secret the pod uses changed: containers waiting for it start now, not after their back-off. */
  configChanged(): void {
    for (const run of this.runs.values()) if (run.waiting?.reason === 'CreateContainerConfigError') run.restartAt = undefined;
    this.kick();
  }

  markGone(): void {
    this.gone = true;
    this.kick();
  }

  /** Schedules a pass (coalesced; never two at once). */
  kick(): void {
    if (this.closed) return;
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
    this.closed = true;
    this.retryTimer?.cancel();
    for (const run of this.runs.values()) this.quiesce(run);
  }

  private async loop(): Promise<void> {
    // Never run a pass inside the caller's stack (adopt() kicks while more is being adopted).
    await Promise.resolve();
    try {
      while (this.dirty && !this.closed) {
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

  private newRun(restartCount: number, lastTerminated?: ContainerStateTerminated): ContainerRun {
    return {
      startedAt: '', startedAtMs: 0, imageRef: '', restartCount, lastTerminated,
      backoff: new CrashLoopBackoff(this.ctx.backoff), probes: {}, started: false, ready: false,
    };
  }

  private run(name: string): ContainerRun {
    let r = this.runs.get(name);
    if (!r) {
      r = this.newRun(0);
      this.runs.set(name, r);
    }
    return r;
  }

  private get terminating(): boolean {
    return this.gone || !!this.pod.metadata?.deletionTimestamp;
  }

  private async sync(): Promise<void> {
    if (this.terminating) {
      await this.terminate();
      return;
    }
    const phase = this.pod.status?.phase;
    // A finished pod whose sandbox is gone (agent restart after a reboot) keeps its final status.
    if ((phase === 'Succeeded' || phase === 'Failed') && !this.record.sandbox) return;
    await this.ensureRunning();
    await this.ctx.config?.refresh(this.pod, this.paths);
    await this.pushStatus();
  }

  private async persist(): Promise<void> {
    const containers: PodRecord['containers'] = {};
    for (const [name, r] of this.runs) {
      containers[name] = { handle: r.handle, previous: r.previous, restartCount: r.restartCount, lastTerminated: r.lastTerminated };
    }
    this.record.containers = containers;
    await saveRecord(this.paths.podDir, this.record, this.recordDirMade);
    this.recordDirMade = true;
  }

  private async ensureRunning(): Promise<void> {
    const rt = this.ctx.runtime;
    if (!this.record.sandbox) {
      if (!this.record.startTime) this.record.startTime = rfc3339(this.ctx.clock.now());
      try {
        const cfg = sandboxConfig(this.pod, this.paths, this.ctx.podDns?.(this.pod));
        this.record.sandbox = await rt.startSandbox(cfg);
        this.record.sandboxConfig = cfg;
        this.podError = undefined;
      } catch (e) {
        this.podError = { reason: 'FailedCreatePodSandBox', message: e instanceof Error ? e.message : String(e) };
        await this.pushStatus();
        throw e;
      }
      await this.persist();
    }
    const sandbox = this.record.sandbox;
    const sandboxCfg = this.record.sandboxConfig ?? sandboxConfig(this.pod, this.paths);
    const policy = this.pod.spec?.restartPolicy || 'Always';
    const now = this.ctx.clock.now();
    for (const c of this.pod.spec?.containers ?? []) {
      const run = this.run(c.name);
      if (run.handle && !run.exit) continue;
      if (run.handle && run.exit) {
        if (!willRestart(policy, run.exit.exitCode)) continue;
        if (run.restartAt === undefined) {
          const ranMs = Math.max(0, (run.exitSeenMs ?? now) - run.startedAtMs);
          const delay = run.backoff.afterCrash(ranMs);
          if (delay > 0) {
            this.restartAfter(run, now, delay);
            this.ctx.events.emit('backoff', { pod: this.key, container: c.name, delayMs: delay, restartCount: run.restartCount });
            continue;
          }
        } else if (now < run.restartAt) {
          this.wakeAt(run, run.restartAt, now);
          continue;
        }
        run.restartAt = undefined;
        run.lastTerminated = this.terminatedOf(run);
        // The exited attempt stays (its log is what `logs --previous` reads); the one before goes.
        const older = run.previous;
        run.previous = run.handle;
        run.handle = undefined;
        run.exit = undefined;
        run.restartCount++;
        if (older) {
          await rt.destroyContainer(older).catch((e: unknown) => this.ctx.log.warn({ pod: this.key, err: String(e) }, 'removing old container'));
        }
        await this.persist();
      }
      // Not started yet (or due for restart), or a previous start failed and its retry is due.
      if (run.restartAt !== undefined && now < run.restartAt) {
        this.wakeAt(run, run.restartAt, now);
        continue;
      }
      run.restartAt = undefined;
      await this.startContainer(c, run, sandbox, sandboxCfg);
    }
  }

  /** Starts a back-off: the container is due again delayMs from now. */
  private restartAfter(run: ContainerRun, now: number, delayMs: number): void {
    run.restartAt = now + delayMs;
    run.timer?.cancel();
    run.timer = this.ctx.clock.setTimeout(() => this.kick(), delayMs);
  }

  /**
   * A pass found the restart not due yet. Re-arms the wake-up for the time left: Node starts a
   * timer from the event loop's cached time, so under load it can fire before Date.now()
   * reaches restartAt, and a pass that only skipped would leave the container waiting forever.
   */
  private wakeAt(run: ContainerRun, at: number, now: number): void {
    run.timer?.cancel();
    run.timer = this.ctx.clock.setTimeout(() => this.kick(), at - now);
  }

  private terminatedOf(run: ContainerRun): ContainerStateTerminated {
    const x = run.exit!;
    return {
      exitCode: x.exitCode,
      signal: 0,
      reason: x.oomKilled ? 'OOMKilled' : x.reason || (x.exitCode === 0 ? 'Completed' : 'Error'),
      message: x.message,
      startedAt: run.startedAt,
      finishedAt: x.finishedAt,
      containerID: run.handle ? this.containerID(run.handle) : '',
    };
  }

  private containerID(h: ContainerHandle): string {
    return `${h.runtime}://${h.containerId}`;
  }

  private async startContainer(
    c: Container,
    run: ContainerRun,
    sandbox: NonNullable<PodRecord['sandbox']>,
    sandboxCfg: NonNullable<PodRecord['sandboxConfig']>,
  ): Promise<void> {
    const rt = this.ctx.runtime;
    if (!run.waiting) run.waiting = { reason: 'ContainerCreating', message: '' };
    try {
      const inputs = await this.ctx.config?.forContainer(this.pod, c, this.paths);
      const mounts = await containerMounts(this.pod, c, this.paths, inputs?.volumeDirs);
      const cfg = containerConfig(this.pod, c, run.restartCount, mounts, inputs?.env);
      run.imageRef = await rt.ensureImage(c.image, pullPolicy(c), inputs?.auth);
      const h = await rt.startContainer(sandbox, sandboxCfg, cfg);
      run.handle = h;
      run.exit = undefined;
      run.waiting = undefined;
      run.startFailures = 0;
      const info = await rt.inspectContainer(h).catch(() => undefined);
      run.startedAtMs = this.ctx.clock.now();
      run.startedAt = info?.startedAt || rfc3339(run.startedAtMs);
      if (info?.imageRef) run.imageRef = info.imageRef;
      await this.persist();
      this.ctx.events.emit('containerStarted', { pod: this.key, container: c.name, attempt: run.restartCount });
      if (info?.state === 'exited') {
        run.exit = {
          exitCode: info.exitCode ?? 0, reason: info.reason, message: info.message, finishedAt: info.finishedAt,
          oomKilled: info.reason === 'OOMKilled',
        };
        this.kick();
        return;
      }
      this.watchExit(c.name, run, h);
      this.startProbes(c.name, run);
    } catch (e) {
      const reason = e instanceof RuntimeError ? e.reason : 'RunContainerError';
      const message = e instanceof Error ? e.message : String(e);
      run.startFailures = (run.startFailures ?? 0) + 1;
      // As the kubelet shows it: ErrImagePull for the first failed pull, then ImagePullBackOff.
      run.waiting =
        reason === 'ErrImagePull' && run.startFailures > 1
          ? { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}": ${message}` }
          : { reason, message };
      // Start failures back off like crashes (pull and config errors are retried slowly).
      const delay = run.backoff.afterFailedStart();
      this.restartAfter(run, this.ctx.clock.now(), delay);
      if (run.startFailures === 1 || run.startFailures % 10 === 0) {
        this.ctx.log.warn({ pod: this.key, container: c.name, reason, err: message, retryMs: delay, failures: run.startFailures }, 'container start failed');
      }
    }
  }

  private watchExit(name: string, run: ContainerRun, h: ContainerHandle): void {
    const ac = new AbortController();
    run.abort = ac;
    this.ctx.runtime.waitContainer(h, ac.signal).then(
      (exit) => {
        if (run.handle !== h || ac.signal.aborted) return;
        run.exit = exit;
        run.exitSeenMs = this.ctx.clock.now();
        this.stopProbes(run);
        run.ready = false;
        this.ctx.log.info({ pod: this.key, container: name, exitCode: exit.exitCode, reason: exit.reason }, 'container exited');
        this.kick();
      },
      (e: unknown) => {
        if (ac.signal.aborted || run.handle !== h) return;
        this.ctx.log.warn({ pod: this.key, container: name, err: String(e) }, 'waiting for container failed');
        // The next pass looks again (inspect on re-attach); keep the container as running.
        this.ctx.clock.setTimeout(() => {
          if (run.handle === h && !run.exit && !this.closed) this.watchExit(name, run, h);
        }, 1000);
      },
    );
  }

  private containerSpec(name: string): Container | undefined {
    return this.pod.spec?.containers.find((c) => c.name === name);
  }

  private startProbes(name: string, run: ContainerRun): void {
    const c = this.containerSpec(name);
    if (!c) return;
    const h = run.handle;
    const defaultHost = this.pod.spec?.hostNetwork ? '127.0.0.1' : this.record.sandbox?.podIP || '127.0.0.1';
    const make = (kind: ProbeKind, onVerdict: (passing: boolean) => void): ProbeWorker | undefined => {
      const p = kind === 'liveness' ? c.livenessProbe : kind === 'readiness' ? c.readinessProbe : c.startupProbe;
      if (!p) return undefined;
      let check;
      try {
        check = probeCheck(p, { container: c, defaultHost, runtime: this.ctx.runtime, handle: () => run.handle });
      } catch (e) {
        if (!(e instanceof ProbeConfigError)) throw e;
        this.ctx.log.warn({ pod: this.key, container: name, probe: kind, err: e.message }, 'probe ignored');
        return undefined;
      }
      const w = new ProbeWorker({
        kind, timing: probeTiming(kind, p), check, clock: this.ctx.clock,
        onOutcome: (ok) => this.ctx.metrics.probeResult(kind, ok),
        onVerdict: (passing) => {
          if (run.handle !== h || run.exit) return;
          onVerdict(passing);
        },
      });
      run.probes[kind] = w;
      w.start();
      return w;
    };
    const startMain = (): void => {
      run.started = true;
      const readiness = make('readiness', (passing) => {
        run.ready = passing;
        this.kick();
      });
      run.ready = !readiness;
      make('liveness', (passing) => {
        if (!passing) this.kill(name, run, 'liveness');
      });
      this.kick();
    };
    run.started = false;
    run.ready = false;
    const startup = make('startup', (passing) => {
      if (passing) startMain();
      else this.kill(name, run, 'startup');
    });
    if (!startup) startMain();
  }

  private stopProbes(run: ContainerRun): void {
    for (const w of Object.values(run.probes)) w.stop();
    run.probes = {};
  }

  private quiesce(run: ContainerRun): void {
    this.stopProbes(run);
    run.timer?.cancel();
    run.abort?.abort();
  }

  /** A failed liveness or startup probe: stop with the grace period; the exit restarts it. */
  private kill(name: string, run: ContainerRun, probe: ProbeKind): void {
    const h = run.handle;
    if (!h) return;
    this.stopProbes(run);
    run.ready = false;
    this.ctx.events.emit('probeKill', { pod: this.key, container: name, probe });
    this.ctx.log.info({ pod: this.key, container: name, probe }, `container failed ${probe} probe, will be restarted`);
    const c = this.containerSpec(name);
    const p = probe === 'liveness' ? c?.livenessProbe : c?.startupProbe;
    const grace = Number(p?.terminationGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS);
    this.kick();
    this.ctx.runtime.stopContainer(h, grace).catch((e: unknown) =>
      this.ctx.log.warn({ pod: this.key, container: name, err: String(e) }, 'stopping container failed'),
    );
  }

  private views(): ContainerView[] {
    const m = this.pod.metadata!;
    return (this.pod.spec?.containers ?? []).map((c) => {
      const run = this.runs.get(c.name);
      const base = { name: c.name, image: c.image, imageID: run?.imageRef ?? '', restartCount: run?.restartCount ?? 0 };
      if (!run) return { ...base, containerID: '', state: waiting('ContainerCreating'), ready: false, started: false };
      const last: ContainerState | undefined = run.lastTerminated ? { terminated: run.lastTerminated } : undefined;
      const id = run.handle ? this.containerID(run.handle) : '';
      if (run.handle && !run.exit) {
        return {
          ...base, containerID: id, state: { running: { startedAt: run.startedAt } }, lastState: last,
          ready: run.ready, started: run.started,
        };
      }
      if (run.handle && run.exit) {
        const term = this.terminatedOf(run);
        if (run.restartAt !== undefined) {
          const msg = backoffMessage(run.backoff.delayMs, c.name, m.name, m.namespace, m.uid);
          return { ...base, containerID: id, state: waiting('CrashLoopBackOff', msg), lastState: { terminated: term }, ready: false, started: false };
        }
        return { ...base, containerID: id, state: { terminated: term }, lastState: last, ready: false, started: false };
      }
      const w = run.waiting ?? { reason: 'ContainerCreating', message: '' };
      return { ...base, containerID: '', state: waiting(w.reason, w.message), lastState: last, ready: false, started: false };
    });
  }

  private async pushStatus(): Promise<void> {
    if (this.gone) return;
    const status = computePodStatus({
      pod: this.pod,
      containers: this.views(),
      podIP: this.pod.spec?.hostNetwork ? this.ctx.hostIP : (this.record.sandbox?.podIP ?? ''),
      hostIP: this.ctx.hostIP,
      startTime: this.record.startTime,
      now: rfc3339(this.ctx.clock.now()),
      reason: this.podError?.reason,
      message: this.podError?.message,
    });
    if (!this.startObserved && status.phase === 'Running' && status.containerStatuses.every((c) => c.state?.running)) {
      this.startObserved = true;
      const scheduled = this.pod.status?.conditions.find((c) => c.type === 'PodScheduled')?.lastTransitionTime;
      const from = scheduled ? Math.min(Date.parse(scheduled) || this.firstSeenMs, this.firstSeenMs) : this.firstSeenMs;
      this.ctx.metrics.podStartLatency.observe(Math.max(0, this.ctx.clock.now() - from) / 1000);
    }
    if (statusEqual(status, this.pod.status) || (this.lastSent && statusEqual(status, this.lastSent) && this.lastSentRv === this.pod.metadata?.resourceVersion)) return;
    let target = this.pod;
    for (let attempt = 0; ; attempt++) {
      const next = { ...target, status };
      try {
        const saved = await this.ctx.api.update('Pod', next, 'status');
        this.lastSent = status;
        this.lastSentRv = saved.metadata?.resourceVersion ?? '';
        if (saved.metadata?.uid === this.uid && !this.terminating) this.pod = saved;
        this.ctx.events.emit('statusPosted', { pod: this.key, phase: status.phase });
        return;
      } catch (e) {
        if (isApiError(e, 'NotFound')) return; // the watch will report the deletion
        if (!isApiError(e, 'Conflict') || attempt >= 5) throw e;
        target = await this.ctx.api.get('Pod', this.pod.metadata!.namespace, this.pod.metadata!.name);
        if (target.metadata?.uid !== this.uid) return;
        this.pod = target;
        if (this.terminating) return;
      }
    }
  }

  /** Runs a container's preStop hook, within timeoutMs; a failure is logged, the stop goes on. */
  private async runPreStop(name: string, run: ContainerRun, hook: LifecycleHandler, timeoutMs: number): Promise<void> {
    const started = this.ctx.clock.now();
    try {
      if (hook.sleep) {
        await sleep(this.ctx.clock, Math.max(0, Math.min(Number(hook.sleep.seconds) * 1000, timeoutMs)));
      } else {
        const c = this.containerSpec(name);
        if (!c) return;
        const defaultHost = this.pod.spec?.hostNetwork ? '127.0.0.1' : this.record.sandbox?.podIP || '127.0.0.1';
        const check = probeCheck({ exec: hook.exec, httpGet: hook.httpGet, initialDelaySeconds: 0 }, {
          container: c, defaultHost, runtime: this.ctx.runtime, handle: () => run.handle,
        });
        if (!(await check(Math.max(1000, timeoutMs)))) throw new Error('the handler failed (non-zero exit or HTTP status outside 200-399)');
      }
      this.ctx.events.emit('preStop', { pod: this.key, container: name, ok: true });
    } catch (e) {
      // As the kubelet (FailedPreStopHook): the container is stopped all the same.
      this.ctx.log.warn({ pod: this.key, container: name, err: e instanceof Error ? e.message : String(e) }, 'preStop hook failed');
      this.ctx.events.emit('preStop', { pod: this.key, container: name, ok: false });
    }
    this.ctx.log.info({ pod: this.key, container: name, ms: this.ctx.clock.now() - started }, 'preStop hook done');
  }

  /** Stops containers with the grace period, removes the sandbox and the pod's files. */
  private async terminate(): Promise<void> {
    const rt = this.ctx.runtime;
    const m = this.pod.metadata!;
    const grace = Number(m.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS);
    const stopBy = this.ctx.clock.now() + grace * 1000;
    for (const run of this.runs.values()) {
      this.stopProbes(run);
      run.timer?.cancel();
      run.restartAt = undefined;
    }
    // Kubernetes races endpoint removal against SIGTERM (users add preStop sleeps); here the stop
    // waits, within the grace period, until every proxy has stopped choosing this pod.
    const podIP = this.record.sandbox?.podIP;
    if (grace > 0 && podIP && !this.gone && !this.pod.spec?.hostNetwork && this.ctx.awaitEndpointGone) {
      await this.ctx.awaitEndpointGone(podIP, Math.min(grace * 1000, ENDPOINT_DRAIN_MAX_MS));
    }
    await Promise.all(
      [...this.runs.entries()].map(async ([name, run]) => {
        if (!run.handle || run.exit) return;
        const hook = this.containerSpec(name)?.lifecycle?.preStop;
        if (hook && grace > 0 && !this.preStopRan.has(name)) {
          this.preStopRan.add(name);
          await this.runPreStop(name, run, hook, stopBy - this.ctx.clock.now());
        }
        if (!run.handle || run.exit) return;
        // What is left of the grace period, and as the kubelet at least 2 s after a hook.
        const left = Math.ceil((stopBy - this.ctx.clock.now()) / 1000);
        await rt.stopContainer(run.handle, hook && grace > 0 ? Math.max(MIN_GRACE_AFTER_HOOK_SECONDS, left) : Math.max(0, Math.min(grace, left)));
      }),
    );
    for (const run of this.runs.values()) {
      run.abort?.abort();
      run.handle = undefined;
    }
    if (this.record.sandbox) {
      await rt.stopSandbox(this.record.sandbox);
      await rt.destroySandbox(this.record.sandbox);
      this.record.sandbox = undefined;
    }
    this.recordDirMade = false;
    await rm(this.paths.podDir, { recursive: true, force: true });
    await rm(this.paths.logDir, { recursive: true, force: true });
    if (!this.gone) {
      try {
        await this.ctx.api.delete({ kind: 'Pod', namespace: m.namespace, name: m.name, gracePeriodSeconds: 0, uid: this.uid });
      } catch (e) {
        // NotFound: already removed; Conflict: the name now belongs to a newer pod.
        if (!isApiError(e, 'NotFound') && !isApiError(e, 'Conflict')) throw e;
      }
    }
    this.done = true;
    this.closed = true;
    this.retryTimer?.cancel();
    this.ctx.log.info({ pod: this.key }, 'pod torn down');
    this.ctx.events.emit('podTornDown', { pod: this.key, uid: this.uid });
    this.ctx.onTornDown(this);
  }
}
