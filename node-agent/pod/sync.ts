// The per-pod sync (the kubelet's SyncPod): sandbox first, then the pod's volumes, then the
// init containers one at a time to completion, then each app container in order; a container
// that exited is restarted per restartPolicy after its CrashLoopBackOff, a failed
// start (image pull, config) is retried the same way. Each container's runtime config is built
// here from ../pod-config.ts (containerMounts for its volumes, containerConfig for the rest).
import type { Container } from '../../proto/gen/skiff/v1/core.js';
import { rfc3339 } from '../heartbeat.js';
import { containerConfig, containerMounts, pullPolicy, sandboxConfig } from '../pod-config.js';
import type { PodRecord } from '../pod-record.js';
import { willRestart } from '../pod-status.js';
import type { ProberManager } from '../probes/manager.js';
import { RuntimeError, type ContainerHandle } from '../runtime/runtime.js';
import { exitOf, terminatedOf, type ContainerRun } from './container-run.js';
import { setUpVolumes } from './volumes.js';
import type { PodState, WorkerContext } from './state.js';

type Sandbox = NonNullable<PodRecord['sandbox']>;
type SandboxCfg = NonNullable<PodRecord['sandboxConfig']>;

export class PodSync {
  /** This pass already holds a start slot (a new pod's whole first start). */
  private holdingSlot = false;

  constructor(
    private readonly s: PodState,
    private readonly ctx: WorkerContext,
    private readonly probes: ProberManager,
    /** Marks the pod dirty (another pass). */
    private readonly kick: () => void,
    /** Hands the current status to the status writer. */
    private readonly publishStatus: () => void,
  ) {}

  async ensureRunning(): Promise<void> {
    const slots = this.ctx.startSlots;
    if (!slots || this.s.record.sandbox) return this.pass();
    // A new pod's whole first start (sandbox, then its containers) holds one slot, as the raw
    // CRI sweep measures it: the pods that got a slot are done early, instead of every sandbox
    // first and every container late.
    return slots.run(async () => {
      this.holdingSlot = true;
      try {
        await this.pass();
      } finally {
        this.holdingSlot = false;
      }
    });
  }

  private async pass(): Promise<void> {
    const s = this.s;
    const rt = this.ctx.runtime;
    if (!s.record.sandbox) {
      if (!s.record.startTime) s.record.startTime = rfc3339(this.ctx.clock.now());
      try {
        const cfg = sandboxConfig(s.pod, s.paths, this.ctx.podDns?.(s.pod));
        s.record.sandbox = await this.bounded(() => rt.startSandbox(cfg));
        s.record.sandboxConfig = cfg;
        s.podError = undefined;
        this.ctx.events.emit('sandboxReady', { pod: s.key, uid: s.record.uid });
      } catch (e) {
        s.podError = { reason: 'FailedCreatePodSandBox', message: e instanceof Error ? e.message : String(e) };
        this.publishStatus();
        throw e;
      }
      await s.persist();
    }
    const sandbox = s.record.sandbox;
    const sandboxCfg = s.record.sandboxConfig ?? sandboxConfig(s.pod, s.paths);
    if (!s.volumesReady) {
      try {
        await setUpVolumes(s.pod, s.paths);
      } catch (e) {
        s.podError = { reason: 'FailedMount', message: e instanceof Error ? e.message : String(e) };
        this.publishStatus();
        throw e;
      }
      s.volumesReady = true;
      if (s.podError?.reason === 'FailedMount') s.podError = undefined;
    }
    const policy = s.pod.spec?.restartPolicy || 'Always';
    const now = this.ctx.clock.now();
    if (!(await this.initContainers(policy, now, sandbox, sandboxCfg))) return;
    for (const c of s.pod.spec?.containers ?? []) await this.syncContainer(c, policy, now, sandbox, sandboxCfg);
  }

  /**
   * Init containers run one at a time, in order, each to completion (exit 0) before the next;
   * a failed one is restarted per restartPolicy (Never: the pod fails). True once all are done.
   */
  private async initContainers(policy: string, now: number, sandbox: Sandbox, sandboxCfg: SandboxCfg): Promise<boolean> {
    for (const c of this.s.pod.spec?.initContainers ?? []) {
      const run = this.s.run(c.name);
      if (run.handle && run.exit?.exitCode === 0) continue;
      if (!(run.handle && !run.exit)) await this.syncContainer(c, policy, now, sandbox, sandboxCfg);
      return false;
    }
    return true;
  }

  /** One container: leave it running, restart it after its back-off, or start it. */
  private async syncContainer(c: Container, policy: string, now: number, sandbox: Sandbox, sandboxCfg: SandboxCfg): Promise<void> {
    const s = this.s;
    const rt = this.ctx.runtime;
    const run = s.run(c.name);
    if (run.handle && !run.exit) {
      this.replaceIfImageChanged(c, run);
      return;
    }
    if (run.handle && run.exit) {
      if (run.replacing) {
        // Its image changed: the kubelet restarts it at once, whatever the restart policy.
        run.replacing = false;
        run.restartAt = now;
      } else if (!willRestart(policy, run.exit.exitCode)) return;
      if (run.restartAt === undefined) {
        const ranMs = Math.max(0, (run.exitSeenMs ?? now) - run.startedAtMs);
        const delay = run.backoff.afterCrash(ranMs);
        if (delay > 0) {
          this.restartAfter(run, now, delay);
          this.ctx.events.emit('backoff', { pod: s.key, container: c.name, delayMs: delay, restartCount: run.restartCount });
          return;
        }
      } else if (now < run.restartAt) {
        this.wakeAt(run, run.restartAt, now);
        return;
      }
      run.restartAt = undefined;
      run.lastTerminated = terminatedOf(run);
      // The exited attempt stays (its log is what `logs --previous` reads); the one before goes.
      const older = run.previous;
      run.previous = run.handle;
      run.handle = undefined;
      run.exit = undefined;
      run.restartCount++;
      if (older) {
        await rt.destroyContainer(older).catch((e: unknown) => this.ctx.log.warn({ pod: s.key, err: String(e) }, 'removing old container'));
      }
      await s.persist();
    }
    // Not started yet (or due for restart), or a previous start failed and its retry is due.
    if (run.restartAt !== undefined && now < run.restartAt) {
      this.wakeAt(run, run.restartAt, now);
      return;
    }
    run.restartAt = undefined;
    await this.startContainer(c, run, sandbox, sandboxCfg);
  }

  /**
   * A running container whose spec image changed (the one in-place pod update Kubernetes
   * allows for containers) is stopped with its grace period; its exit restarts it on the new image.
   */
  private replaceIfImageChanged(c: Container, run: ContainerRun): void {
    if (run.specImage === undefined) run.specImage = c.image;
    if (run.specImage === c.image || run.replacing || !run.handle) return;
    run.replacing = true;
    const h = run.handle;
    const grace = Number(this.s.pod.spec?.terminationGracePeriodSeconds ?? 30);
    this.ctx.log.info({ pod: this.s.key, container: c.name, from: run.specImage, to: c.image }, 'container image changed, will be restarted');
    this.probes.stop(c.name);
    run.ready = false;
    this.ctx.runtime.stopContainer(h, grace).catch((e: unknown) =>
      this.ctx.log.warn({ pod: this.s.key, container: c.name, err: String(e) }, 'stopping container failed'),
    );
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

  private async startContainer(c: Container, run: ContainerRun, sandbox: Sandbox, sandboxCfg: SandboxCfg): Promise<void> {
    const s = this.s;
    const rt = this.ctx.runtime;
    if (!run.waiting) run.waiting = { reason: 'ContainerCreating', message: '' };
    try {
      // The container's runtime config: its mounts (volumes), then command, env, user, limits.
      const inputs = await this.ctx.config?.forContainer(s.pod, c, s.paths);
      const mounts = await containerMounts(s.pod, c, s.paths, this.ctx.claimPath, inputs?.volumeDirs);
      const cfg = containerConfig(s.pod, c, run.restartCount, mounts, inputs?.env);
      run.imageRef = await rt.ensureImage(c.image, pullPolicy(c), inputs?.auth);
      const h = await this.bounded(() => rt.startContainer(sandbox, sandboxCfg, cfg));
      run.handle = h;
      run.specImage = c.image;
      run.exit = undefined;
      run.waiting = undefined;
      run.startFailures = 0;
      const info = await rt.inspectContainer(h).catch(() => undefined);
      run.startedAtMs = this.ctx.clock.now();
      run.startedAt = info?.startedAt || rfc3339(run.startedAtMs);
      if (info?.imageRef) run.imageRef = info.imageRef;
      await s.persist();
      this.ctx.events.emit('containerStarted', { pod: s.key, container: c.name, attempt: run.restartCount });
      if (info?.state === 'exited') {
        run.exit = exitOf(info);
        this.kick();
        return;
      }
      this.watchExit(c.name, run, h);
      if (s.isInit(c.name)) run.started = true;
      else this.probes.start(c, run);
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
        this.ctx.log.warn({ pod: s.key, container: c.name, reason, err: message, retryMs: delay, failures: run.startFailures }, 'container start failed');
      }
    }
  }

  /** A start call, within the node's bound on start calls in flight. */
  private bounded<T>(fn: () => Promise<T>): Promise<T> {
    return this.ctx.startSlots && !this.holdingSlot ? this.ctx.startSlots.run(fn) : fn();
  }

  /** Waits for the attempt's exit in the background; the exit marks the pod dirty. */
  watchExit(name: string, run: ContainerRun, h: ContainerHandle): void {
    const ac = new AbortController();
    run.abort = ac;
    this.ctx.runtime.waitContainer(h, ac.signal).then(
      (exit) => {
        if (run.handle !== h || ac.signal.aborted) return;
        run.exit = exit;
        run.exitSeenMs = this.ctx.clock.now();
        this.probes.stop(name);
        run.ready = false;
        this.ctx.log.info({ pod: this.s.key, container: name, exitCode: exit.exitCode, reason: exit.reason }, 'container exited');
        this.kick();
      },
      (e: unknown) => {
        if (ac.signal.aborted || run.handle !== h) return;
        this.ctx.log.warn({ pod: this.s.key, container: name, err: String(e) }, 'waiting for container failed');
        // The next pass looks again (inspect on re-attach); keep the container as running.
        this.ctx.clock.setTimeout(() => {
          if (run.handle === h && !run.exit && !this.s.closed) this.watchExit(name, run, h);
        }, 1000);
      },
    );
  }
}
