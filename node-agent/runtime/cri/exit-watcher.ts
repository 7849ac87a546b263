// Container exits, found the way the kubelet's PLEG finds them: one relist of this node's
// containers per period for all waiters, instead of a ContainerStatus call per container per
// poll. Only the containers seen exited, or gone, are then asked for their status. Where the
// runtime pushes exits (containerd's events, task-exits.ts), exited() checks that container at
// once and the relist only catches what a broken stream missed.
import { ContainerState as CriState } from '../../../proto/gen/runtime/v1/api.js';
import type { ExitResult } from '../runtime.js';
import { criError, type CriClient } from './client.js';
import { containerStatus, exitResult } from './containers.js';

/** Re-checks of a pushed exit the status does not show yet: 25 ms doubling to 1 s, ~30 s in all. */
const PUSHED_RECHECKS = 36;
/** How long a SIGKILL exit of a memory-limited container waits to be marked OOMKilled (the runtime's TaskOOM event can trail the exit on a busy node). */
const OOM_SETTLE_MS = 2000;

function nanosToMs(n: number | string | bigint): number {
  try {
    return Number(BigInt(n) / 1_000_000n);
  } catch {
    // Not a number: treat as long ago, so nothing waits on it.
    return 0;
  }
}
const PUSHED_RECHECK_MS = 25;
const PUSHED_RECHECK_MAX_MS = 1000;
/** Pushed exits kept for a wait that comes after them (the agent waits right after starting). */
const REMEMBERED_EXITS = 1024;

interface Waiter {
  resolve: (r: ExitResult) => void;
  reject: (e: Error) => void;
}

export class ExitWatcher {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private readonly pushed = new Set<string>();
  /** Containers started without a memory limit: their cgroup cannot OOM-kill them, a 137 is a plain SIGKILL. */
  private readonly unlimited = new Set<string>();

  constructor(
    private readonly client: CriClient,
    private readonly labelSelector: Record<string, string>,
    private readonly periodMs: number,
  ) {}

  /** The container has no memory limit: report its SIGKILL exits without waiting for an OOM mark. */
  noMemoryLimit(containerId: string): void {
    this.unlimited.add(containerId);
  }

  /** Resolves when the container has exited; rejects when it is gone or signal aborts. */
  wait(containerId: string, signal?: AbortSignal): Promise<ExitResult> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        return;
      }
      const set = this.waiters.get(containerId) ?? new Set<Waiter>();
      this.waiters.set(containerId, set);
      const w: Waiter = {
        resolve: (r) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const onAbort = (): void => {
        this.remove(containerId, w);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(w);
      // A container that exited before anyone waited is answered by its own status, at once
      // (and again while the status lags an exit that was already pushed).
      if (set.size === 1) void this.checkPushed(containerId, this.pushed.delete(containerId) ? 0 : PUSHED_RECHECKS);
      this.schedule(this.periodMs);
    });
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The runtime reported the container's exit: its waiters are answered without a relist. */
  exited(containerId: string): void {
    if (this.waiters.has(containerId)) {
      void this.checkPushed(containerId, 0);
      return;
    }
    this.pushed.add(containerId);
    if (this.pushed.size > REMEMBERED_EXITS) this.pushed.delete(this.pushed.values().next().value!);
  }

  /** Exits may have gone unreported (event stream reopened): relist now. */
  resync(): void {
    if (this.running) {
      // The relist in flight may have listed before the missed exit: one more after it.
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.schedule(0);
  }

  private remove(id: string, w: Waiter): void {
    const set = this.waiters.get(id);
    set?.delete(w);
    if (set && set.size === 0) this.waiters.delete(id);
  }

  private schedule(ms: number): void {
    if (this.timer || this.running || this.waiters.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.relist();
    }, ms);
  }

  private settle(id: string, fn: (w: Waiter) => void): void {
    const set = this.waiters.get(id);
    this.waiters.delete(id);
    for (const w of set ?? []) fn(w);
  }

  /**
   * Answers the container's waiters from its status when it has exited or is gone; true if so.
   * A SIGKILL (137) of a memory-limited container that ended under OOM_SETTLE_MS ago and is not
   * marked OOMKilled is left for the next look: the runtime records an OOM kill from its own TaskOOM event, which may trail
   * the exit, and an OOM kill must not be reported as a plain Error.
   */
  private async check(id: string): Promise<boolean> {
    try {
      const st = await containerStatus(this.client, id);
      if (st.state !== CriState.CONTAINER_EXITED) return false;
      const mayBeOom = st.exitCode === 137 && st.reason !== 'OOMKilled' && !this.unlimited.has(id);
      if (mayBeOom && Date.now() - nanosToMs(st.finishedAt) < OOM_SETTLE_MS) return false;
      this.unlimited.delete(id);
      this.settle(id, (w) => w.resolve(exitResult(st)));
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.settle(id, (w) => w.reject(err));
    }
    return true;
  }

  /**
   * The CRI plugin records the exit from the same event, so its status may still say running
   * for a moment: look again a few times before leaving it to the relist.
   */
  private async checkPushed(id: string, attempt: number): Promise<void> {
    if (!this.waiters.has(id) || (await this.check(id)) || attempt >= PUSHED_RECHECKS) return;
    const delay = Math.min(PUSHED_RECHECK_MAX_MS, PUSHED_RECHECK_MS * 2 ** attempt);
    const t = setTimeout(() => void this.checkPushed(id, attempt + 1), delay);
    t.unref();
  }

  private async relist(): Promise<void> {
    this.running = true;
    try {
      const { containers } = await this.client.rt('listContainers', { filter: { id: '', podSandboxId: '', labelSelector: this.labelSelector } });
      const state = new Map(containers.map((c) => [c.id, c.state]));
      for (const id of [...this.waiters.keys()]) {
        const s = state.get(id);
        if (s !== undefined && s !== CriState.CONTAINER_EXITED) continue;
        // Exited, or not listed (gone, or made outside this node's labels): its own status says.
        await this.check(id);
      }
    } catch (e) {
      // The runtime did not answer: every waiter hears it, as with a failed status call.
      const err = criError(e, 'ContainerStatusError', 'list containers');
      for (const id of [...this.waiters.keys()]) this.settle(id, (w) => w.reject(err));
    } finally {
      this.running = false;
      const again = this.again;
      this.again = false;
      this.schedule(again ? 0 : this.periodMs);
    }
  }
}
