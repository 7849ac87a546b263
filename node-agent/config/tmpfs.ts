// The tmpfs that holds secret volumes, so secret values never reach the node's disk (as the
// kubelet mounts one per secret volume; one for the agent is enough here). Mounted on first
// use under the agent's state dir; left mounted when the agent stops, since running
// containers keep bind mounts into it (`skiff down --purge` unmounts it).
import { readFile, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Exec } from '../network/exec.js';

/** Whether path is a mount point now (from /proc/self/mountinfo). */
export async function isMountPoint(path: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const want = resolve(path);
  // Field 5 is the mount point, with spaces and such octal-escaped.
  return info.split('\n').some((l) => l.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))) === want);
}

export async function ensureTmpfs(dir: string, exec: Exec, sizeBytes = 256 * 1024 * 1024): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (await isMountPoint(dir)) return;
  await exec(['mount', '-t', 'tmpfs', '-o', `mode=0700,size=${sizeBytes}`, 'tmpfs', dir]);
}
