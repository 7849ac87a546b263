// Stopping containers: the kill after a failed liveness/startup probe (the exit then restarts
// the container), and the pod's teardown on deletion: Service drain wait, preStop hooks within
// the grace period, stop with what is left (at least 2 s after a hook), the pod's files, the
// confirming Delete (gracePeriodSeconds=0, uid precondition), then the sandbox's stop and
// removal once the node's starts are done.
import { isApiError } from '../../proto/api/errors.js';
import { sleep } from '../../proto/api/clock.js';
import type { LifecycleHandler } from '../../proto/gen/skiff/v1/core.js';
import { probeCheck } from '../probes/handlers.js';
import type { ProberManager } from '../probes/manager.js';
import type { ProbeKind } from '../probes/spec.js';
import type { ContainerRun } from './container-run.js';
import type { PodState, WorkerContext } from './state.js';
import { tearDownVolumes } from './volumes.js';

export const DEFAULT_GRACE_SECONDS = 30;
/** Longest a graceful stop waits for the proxies to drop the pod (an unreachable node must not hold it). */
const ENDPOINT_DRAIN_MAX_MS = 5_000;
/** Longest a deleted pod's sandbox waits for the node's starts to finish before it is removed anyway. */
const SANDBOX_TEARDOWN_MAX_WAIT_MS = 10_000;
/** The kubelet's minimumGracePeriodInSeconds: what a container gets to stop after its preStop hook. */
const MIN_GRACE_AFTER_HOOK_SECONDS = 2;

export class PodKiller {
  /** Containers whose preStop hook ran (once per pod, even if teardown is retried). */
  private readonly preStopRan = new Set<string>();

  constructor(
    private readonly s: PodState,
    private readonly ctx: WorkerContext,
    private readonly probes: ProberManager,
    private readonly kick: () => void,
  ) {}

  /** A failed liveness or startup probe: stop with the grace period; the exit restarts it. */
  killForProbe(name: string, probe: ProbeKind): void {
    const s = this.s;
    const run = s.runs.get(name);
    const h = run?.handle;
    if (!run || !h) return;
    this.probes.stop(name);
    run.ready = false;
    this.ctx.events.emit('probeKill', { pod: s.key, container: name, probe });
    this.ctx.log.info({ pod: s.key, container: name, probe }, `container failed ${probe} probe, will be restarted`);
    const c = s.containerSpec(name);
    const p = probe === 'liveness' ? c?.livenessProbe : c?.startupProbe;
    const grace = Number(p?.terminationGracePeriodSeconds ?? s.pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS);
    this.kick();
    this.ctx.runtime.stopContainer(h, grace).catch((e: unknown) =>
      this.ctx.log.warn({ pod: s.key, container: name, err: String(e) }, 'stopping container failed'),
    );
  }

  /**
   * The pod is over (deadline, eviction, terminal): no restart is pending any more and every
   * running container stops with the pod's grace period. The sandbox stays until deletion.
   */
  async stopAll(): Promise<void> {
    const s = this.s;
    const grace = Number(s.pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS);
    this.probes.stopAll();
    for (const run of s.runs.values()) {
      run.timer?.cancel();
      run.restartAt = undefined;
    }
    await Promise.all(
      [...s.runs.entries()].map(async ([name, run]) => {
        if (!run.handle || run.exit) return;
        run.ready = false;
        await this.ctx.runtime.stopContainer(run.handle, grace).catch((e: unknown) =>
          this.ctx.log.warn({ pod: s.key, container: name, err: String(e) }, 'stopping container failed'),
        );
      }),
    );
  }

  /** Stops containers with the grace period, removes the sandbox and the pod's files. */
  async terminate(): Promise<void> {
    const s = this.s;
    const rt = this.ctx.runtime;
    const m = s.pod.metadata!;
    const grace = Number(m.deletionGracePeriodSeconds ?? s.pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS);
    const stopBy = this.ctx.clock.now() + grace * 1000;
    this.probes.stopAll();
    for (const run of s.runs.values()) {
      run.timer?.cancel();
      run.restartAt = undefined;
    }
    // Kubernetes races endpoint removal against SIGTERM (users add preStop sleeps); here the stop
    // waits, within the grace period, until every proxy has stopped choosing this pod.
    const podIP = s.record.sandbox?.podIP;
    if (grace > 0 && podIP && !s.gone && !s.pod.spec?.hostNetwork && this.ctx.awaitEndpointGone) {
      await this.ctx.awaitEndpointGone(podIP, Math.min(grace * 1000, ENDPOINT_DRAIN_MAX_MS));
    }
    await Promise.all(
      [...s.runs.entries()].map(async ([name, run]) => {
        if (!run.handle || run.exit) return;
        const hook = s.containerSpec(name)?.lifecycle?.preStop;
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
    for (const run of s.runs.values()) {
      run.abort?.abort();
      run.handle = undefined;
    }
    s.recordDirMade = false;
    await tearDownVolumes(s.paths);
    // Every container has stopped and the volumes are gone: the pod's resources are reclaimed
    // as the kubelet judges it (its sandboxes go later, in its garbage collection).
    if (!s.gone) {
      try {
        await this.ctx.api.delete({ kind: 'Pod', namespace: m.namespace, name: m.name, gracePeriodSeconds: 0, uid: m.uid });
      } catch (e) {
        // NotFound: already removed; Conflict: the name now belongs to a newer pod.
        if (!isApiError(e, 'NotFound') && !isApiError(e, 'Conflict')) throw e;
      }
    }
    if (s.record.sandbox) {
      // Starts first: the sandbox's stop and removal (CNI teardown, the pause container, the
      // shim) cost the runtime about what a start does, and in a rolling update every start
      // has a teardown beside it. They wait, bounded, until no start is in flight on the node;
      // not with hostPorts, whose mappings a new pod on the same port must not find still there.
      const hostPorts = s.pod.spec?.containers.some((c) => c.ports.some((p) => p.hostPort > 0));
      if (!hostPorts) await this.startsIdle(SANDBOX_TEARDOWN_MAX_WAIT_MS);
      await rt.stopSandbox(s.record.sandbox);
      await rt.destroySandbox(s.record.sandbox);
      s.record.sandbox = undefined;
    }
  }

  /** Resolves when the node's start calls are done, or after maxMs (a node that always starts something). */
  private async startsIdle(maxMs: number): Promise<void> {
    const slots = this.ctx.startSlots;
    if (!slots || slots.inUse === 0) return;
    let timer: { cancel(): void } | undefined;
    await Promise.race([slots.idle(), new Promise<void>((r) => (timer = this.ctx.clock.setTimeout(r, maxMs)))]);
    timer?.cancel();
  }

  /** Runs a container's preStop hook, within timeoutMs; a failure is logged, the stop goes on. */
  private async runPreStop(name: string, run: ContainerRun, hook: LifecycleHandler, timeoutMs: number): Promise<void> {
    const s = this.s;
    const started = this.ctx.clock.now();
    try {
      if (hook.sleep) {
        await sleep(this.ctx.clock, Math.max(0, Math.min(Number(hook.sleep.seconds) * 1000, timeoutMs)));
      } else {
        const c = s.containerSpec(name);
        if (!c) return;
        const check = probeCheck({ exec: hook.exec, httpGet: hook.httpGet, initialDelaySeconds: 0 }, {
          container: c, defaultHost: s.defaultHost, runtime: this.ctx.runtime, handle: () => run.handle,
        });
        if (!(await check(Math.max(1000, timeoutMs)))) throw new Error('the handler failed (non-zero exit or HTTP status outside 200-399)');
      }
      this.ctx.events.emit('preStop', { pod: s.key, container: name, ok: true });
    } catch (e) {
      // As the kubelet (FailedPreStopHook): the container is stopped all the same.
      this.ctx.log.warn({ pod: s.key, container: name, err: e instanceof Error ? e.message : String(e) }, 'preStop hook failed');
      this.ctx.events.emit('preStop', { pod: s.key, container: name, ok: false });
    }
    this.ctx.log.info({ pod: s.key, container: name, ms: this.ctx.clock.now() - started }, 'preStop hook done');
  }
}
