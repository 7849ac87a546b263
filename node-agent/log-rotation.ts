// Container log rotation by size, as the kubelet's container log manager does it
// (--container-log-max-size, --container-log-max-files): every period, a running container's
// log file beyond the size is renamed to <path>.<UTC timestamp> and the runtime reopens the
// path (CRI ReopenContainerLog); rotated files beyond max-files - 1 go, oldest first. The
// decision is a pure function of a snapshot; the manager gathers the snapshot and acts.
import { readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { ContainerHandle, Runtime } from './runtime/runtime.js';

export const DEFAULT_LOG_MAX_SIZE = 10 * 1024 * 1024;
export const DEFAULT_LOG_MAX_FILES = 5;
export const ROTATION_PERIOD_MS = 10_000;

export interface LogSnapshot {
  handle: ContainerHandle;
  /** The live log file. */
  path: string;
  size: number;
  /** Rotated files of this log (full paths, "<path>.<timestamp>"). */
  rotated: string[];
}

export interface RotationPlan {
  /** Rotated files to delete. */
  remove: string[];
  /** Logs to rename to `to`, then reopen. */
  rotate: { handle: ContainerHandle; from: string; to: string }[];
}

/** The kubelet's rotated-file suffix: UTC, to the second (YYYYMMDD-hhmmss). */
export function rotationSuffix(now: Date): string {
  const iso = now.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

const ROTATED = /\.\d{8}-\d{6}$/;

/** Whether a file name is a rotated copy of the log file named `log`. */
export function isRotatedOf(log: string, name: string): boolean {
  return name.startsWith(`${log}.`) && ROTATED.test(name) && name.length === log.length + 16;
}

/**
 * What to do for running containers' logs: keep at most maxFiles files per log (the live one
 * included), rotating a live file once it exceeds maxSize. Timestamps sort as names do.
 */
export function planRotation(logs: LogSnapshot[], maxSize: number, maxFiles: number, now: Date): RotationPlan {
  const plan: RotationPlan = { remove: [], rotate: [] };
  for (const l of logs) {
    const rotate = l.size > maxSize;
    const to = `${l.path}.${rotationSuffix(now)}`;
    // Two rotations within a second would collide: the second waits for the next period.
    const collides = l.rotated.includes(to);
    const keep = Math.max(0, maxFiles - 1 - (rotate && !collides ? 1 : 0));
    const sorted = [...l.rotated].sort();
    plan.remove.push(...sorted.slice(0, Math.max(0, sorted.length - keep)));
    if (rotate && !collides) plan.rotate.push({ handle: l.handle, from: l.path, to });
  }
  return plan;
}

export interface LogRotatorOptions {
  runtime: Runtime;
  maxSize: number;
  maxFiles: number;
  log: Logger;
  periodMs?: number;
  now?: () => Date;
}

/** Runs planRotation over the runtime's running containers every period. */
export class LogRotator {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: LogRotatorOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.once()
        .then(() => undefined)
        .catch((e: unknown) => this.opts.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'container log rotation failed'))
        .finally(() => (this.running = undefined));
    }, this.opts.periodMs ?? ROTATION_PERIOD_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass: snapshot, plan, act. A failure on one log does not stop the others. */
  async once(): Promise<RotationPlan> {
    const { containers } = await this.opts.runtime.discover();
    const logs: LogSnapshot[] = [];
    for (const c of containers) {
      if (c.info.state !== 'running' || !c.info.logPath) continue;
      const snap = await snapshot(c.handle, c.info.logPath);
      if (snap) logs.push(snap);
    }
    const plan = planRotation(logs, this.opts.maxSize, this.opts.maxFiles, (this.opts.now ?? (() => new Date()))());
    for (const f of plan.remove) {
      await unlink(f).catch((e: unknown) => this.warn(f, 'remove a rotated log', e));
    }
    for (const r of plan.rotate) {
      try {
        await rename(r.from, r.to);
      } catch (e) {
        this.warn(r.from, 'rotate', e);
        continue;
      }
      try {
        await this.opts.runtime.reopenContainerLog(r.handle);
      } catch (e) {
        // As the kubelet does: without a reopened file the container would write into the
        // renamed one unseen, so the old name comes back.
        this.warn(r.from, 'reopen after rotation', e);
        await rename(r.to, r.from).catch((err: unknown) => this.warn(r.to, 'restore the log after a failed reopen', err));
      }
    }
    return plan;
  }

  private warn(path: string, what: string, e: unknown): void {
    this.opts.log.warn({ path, err: e instanceof Error ? e.message : String(e) }, `container log rotation: cannot ${what}`);
  }
}

async function snapshot(handle: ContainerHandle, path: string): Promise<LogSnapshot | undefined> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    // Not written yet: nothing to rotate.
    if (e instanceof Error && 'code' in e && e.code === 'ENOENT') return undefined;
    throw e;
  }
  const name = basename(path);
  const rotated = (await readdir(dirname(path))).filter((f) => isRotatedOf(name, f)).map((f) => join(dirname(path), f));
  return { handle, path, size, rotated };
}
