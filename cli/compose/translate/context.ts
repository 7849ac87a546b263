// What every translation step shares: the project, a way to read files next to the compose
// file (injected so the translation stays a pure function in tests), and where diagnostics go.
import { resolve } from 'node:path';
import { parseDuration } from '../../duration.js';
import type { Diagnostic } from '../keys.js';
import type { Project } from '../model.js';

export interface TranslateContext {
  project: Project;
  readFile: (absPath: string) => string;
  diagnostics: Diagnostic[];
}

export class Refusal extends Error {}

export function warn(ctx: TranslateContext, path: string, message: string): void {
  ctx.diagnostics.push({ level: 'warning', path, message });
}

export function refuse(ctx: TranslateContext, path: string, message: string): void {
  ctx.diagnostics.push({ level: 'error', path, message });
}

export function projectPath(ctx: TranslateContext, p: string): string {
  const home = ctx.project.env('HOME');
  const expanded = p.startsWith('~/') && home ? `${home}${p.slice(1)}` : p;
  // resolve() also cleans an absolute path ("/srv//data/" -> "/srv/data"): the API refuses
  // unclean hostPaths.
  return resolve(ctx.project.dir, expanded);
}

/** Whole seconds of a Compose duration ("1m30s", "500ms", "10s"), rounded up; undefined when unset. */
export function seconds(ctx: TranslateContext, path: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  try {
    return Math.ceil(parseDuration(v, path) / 1000);
  } catch {
    refuse(ctx, path, `"${v}" is not a duration: use e.g. 10s, 1m30s or 500ms`);
    return undefined;
  }
}

/** Compose byte sizes ("512m", "1g", "100M", "1gb", 1048576) as a Kubernetes quantity. */
export function bytesQuantity(ctx: TranslateContext, path: string, v: number | string): string | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i.exec(String(v).trim());
  if (!m) {
    refuse(ctx, path, `"${v}" is not a size: use e.g. 512m or 1g`);
    return undefined;
  }
  const mult = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase()] ?? 1;
  const bytes = Math.round(Number(m[1]) * mult);
  if (bytes % 1024 ** 3 === 0 && bytes > 0) return `${bytes / 1024 ** 3}Gi`;
  if (bytes % 1024 ** 2 === 0 && bytes > 0) return `${bytes / 1024 ** 2}Mi`;
  if (bytes % 1024 === 0 && bytes > 0) return `${bytes / 1024}Ki`;
  return String(bytes);
}

/** Compose CPUs ("0.5", 2) as a Kubernetes quantity in millicores. */
export function cpuQuantity(ctx: TranslateContext, path: string, v: number | string): string | undefined {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    refuse(ctx, path, `"${v}" is not a CPU count: use e.g. 0.5 or 2`);
    return undefined;
  }
  const milli = Math.round(n * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

export function int(ctx: TranslateContext, path: string, v: number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    refuse(ctx, path, `"${v}" is not a whole number`);
    return undefined;
  }
  return n;
}
