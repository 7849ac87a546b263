// The pod's volumes on this node: set up once before its first container starts (emptyDir
// directories; `medium: Memory` as a tmpfs of sizeLimit), measured for emptyDir.sizeLimit on
// disk, torn down with the pod (tmpfs unmounted, files removed). Per-container mounts
// (volumeMounts -> host paths, hostPath checks, subPath) are built in ../pod-config.ts
// (containerMounts); this file holds what exists once per pod.
import { lstat, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { memoryBytes } from '../../proto/api/quantity.js';
import { commandExec, type Exec } from '../network/exec.js';
import type { PodPaths } from '../pod-config.js';

export function emptyDirPath(paths: PodPaths, volume: string): string {
  return join(paths.volumesDir, volume);
}

/** Mount points (as /proc/self/mountinfo lists them) under dir. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const out: string[] = [];
  for (const line of text.split('\n')) {
    // Field 5 is the mount point, with space, tab, newline and backslash octal-escaped.
    const raw = line.split(' ')[4];
    if (!raw) continue;
    const mp = raw.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mp === dir || mp.startsWith(prefix)) out.push(mp);
  }
  return out;
}

/** Creates the pod's emptyDirs; a Memory one is a tmpfs (size = sizeLimit when set). Idempotent. */
export async function setUpVolumes(pod: Pod, paths: PodPaths, exec: Exec = commandExec()): Promise<void> {
  const memory = (pod.spec?.volumes ?? []).filter((v) => v.emptyDir?.medium === 'Memory');
  const mounted = memory.length ? new Set(await mountsUnder(paths.volumesDir)) : new Set<string>();
  for (const v of pod.spec?.volumes ?? []) {
    if (!v.emptyDir) continue;
    const dir = emptyDirPath(paths, v.name);
    await mkdir(dir, { recursive: true });
    if (v.emptyDir.medium !== 'Memory' || mounted.has(dir)) continue;
    const size = memoryBytes(v.emptyDir.sizeLimit);
    // mode 1777 as an emptyDir on disk is writable by any user the container runs as.
    const opts = ['mode=1777', ...(size > 0 ? [`size=${size}`] : [])].join(',');
    await exec(['mount', '-t', 'tmpfs', '-o', opts, `skiff-${v.name}`, dir]);
  }
}

/** Unmounts the pod's tmpfs volumes and removes its files on this node: volumes, record, logs. */
export async function tearDownVolumes(paths: PodPaths, exec: Exec = commandExec()): Promise<void> {
  // Deepest first, so nested mounts come off before their parents.
  const mounts = (await mountsUnder(paths.podDir)).sort((a, b) => b.length - a.length);
  for (const mp of mounts) await exec(['umount', mp]);
  await rm(paths.podDir, { recursive: true, force: true });
  await rm(paths.logDir, { recursive: true, force: true });
}

/** Bytes a directory tree takes on disk (allocated blocks, as du counts them); links are not followed. */
export async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await diskUsage(p);
    else {
      try {
        total += (await lstat(p)).blocks * 512;
      } catch (err) {
        // Removed between readdir and lstat.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
  return total;
}

export interface SizeLimitExceeded {
  volume: string;
  limit: string;
  usedBytes: number;
}

/** The first on-disk emptyDir of the pod that uses more than its sizeLimit (Memory ones are bounded by tmpfs). */
export async function emptyDirOverLimit(pod: Pod, paths: PodPaths): Promise<SizeLimitExceeded | undefined> {
  for (const v of pod.spec?.volumes ?? []) {
    if (!v.emptyDir?.sizeLimit || v.emptyDir.medium === 'Memory') continue;
    const limit = memoryBytes(v.emptyDir.sizeLimit);
    if (limit <= 0) continue;
    const used = await diskUsage(emptyDirPath(paths, v.name));
    if (used > limit) return { volume: v.name, limit: v.emptyDir.sizeLimit, usedBytes: used };
  }
  return undefined;
}

/** Pods with an on-disk emptyDir sizeLimit are measured periodically. */
export function hasDiskSizeLimit(pod: Pod): boolean {
  return (pod.spec?.volumes ?? []).some((v) => !!v.emptyDir?.sizeLimit && v.emptyDir.medium !== 'Memory');
}
