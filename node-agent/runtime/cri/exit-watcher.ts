// Container exits, found the way the kubelet's PLEG finds them: one relist of this node's
// containers per period for all waiters, instead of a ContainerStatus call per container per
// poll (the CRI of containerd 1.6 has no event stream). Only the containers seen exited, or gone,
// are then asked for their status.
import { ContainerState as CriState } from '../../../proto/gen/runtime/v1/api.js';
import type { ExitResult } from '../runtime.js';
import { criError, type CriClient } from './client.js';
import { containerStatus, exitResult } from './containers.js';

interface Waiter {
  resolve: (r: ExitResult) => void;
  reject: (e: Error) => void;
}

export class ExitWatcher {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly client: CriClient,
    private readonly labelSelector: Record<string, string>,
    private readonly periodMs: number,
  ) {}

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
      // A container that exited before anyone waited is found on the first relist, at once.
      if (set.size === 1 && this.waiters.size === 1 && !this.running) this.schedule(0);
      else this.schedule(this.periodMs);
    });
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
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

  private async relist(): Promise<void> {
    this.running = true;
    try {
      const { containers } = await this.client.rt('listContainers', { filter: { id: '', podSandboxId: '', labelSelector: this.labelSelector } });
      const state = new Map(containers.map((c) => [c.id, c.state]));
      for (const id of [...this.waiters.keys()]) {
        const s = state.get(id);
        if (s !== undefined && s !== CriState.CONTAINER_EXITED) continue;
        // Exited, or not listed (gone, or made outside this node's labels): its own status says.
        try {
          const st = await containerStatus(this.client, id);
          if (st.state === CriState.CONTAINER_EXITED) this.settle(id, (w) => w.resolve(exitResult(st)));
        } catch (e) {
          const err = e instanceof Error ? e : new Error(String(e));
          this.settle(id, (w) => w.reject(err));
        }
      }
    } catch (e) {
      // The runtime did not answer: every waiter hears it, as with a failed status call.
      const err = criError(e, 'ContainerStatusError', 'list containers');
      for (const id of [...this.waiters.keys()]) this.settle(id, (w) => w.reject(err));
    } finally {
      this.running = false;
      this.schedule(this.periodMs);
    }
  }
}
