// The cluster's background processes: started detached (they outlive `skiff up`), output to
// logs/<name>.log, pid in pids/<name>.pid. A pid counts as ours only while /proc/<pid>/cmdline
// still names the same program with our state dir, so a recycled pid is never signalled.
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Layout } from './layout.js';

/** etcd, registry, containerd, control-plane, node-agent; containerd-nK and node-agent-nK per node of a multi-node cluster. */
export type Component = string;

/** Stop order: the reverse of start order. */
export const STOP_ORDER: Component[] = ['node-agent', 'control-plane', 'containerd', 'registry', 'etcd'];

/** Stop order of a multi-node cluster: the host's LoadBalancer forwarding, every agent, the control plane, every containerd, then registry and etcd. */
export function stopOrder(nodes: string[]): Component[] {
  if (nodes.length === 0) return STOP_ORDER;
  return ['host-lb', ...nodes.map((n) => `node-agent-${n}`), 'control-plane', ...nodes.map((n) => `containerd-${n}`), 'registry', 'etcd'];
}

export async function cmdline(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw ? raw.split('\0').filter((s) => s !== '') : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of a component started from this state dir, when it still runs. */
export async function runningPid(l: Layout, name: Component): Promise<number | undefined> {
  const text = await readFile(join(l.pids, `${name}.pid`), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const args = await cmdline(pid);
  if (!args) return undefined;
  // Every component gets a path under the state dir on its command line.
  return args.some((a) => a.includes(l.stateDir)) ? pid : undefined;
}

export async function startDetached(l: Layout, name: Component, cmd: string, args: string[]): Promise<number> {
  await mkdir(l.logs, { recursive: true });
  await mkdir(l.pids, { recursive: true });
  const logFile = join(l.logs, `${name}.log`);
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], cwd: l.stateDir });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', (e) => reject(new Error(`cannot start ${cmd}: ${e.message}`)));
      child.once('spawn', () => resolve(child.pid ?? -1));
    });
    child.unref();
    await writeFile(join(l.pids, `${name}.pid`), `${pid}\n`);
    return pid;
  } finally {
    closeSync(fd);
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
export async function stopPid(pid: number, graceMs = 15_000): Promise<'stopped' | 'killed'> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'stopped';
  }
  const end = Date.now() + graceMs;
  while (Date.now() < end) {
    if (!alive(pid) || (await isZombie(pid))) return 'stopped';
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone in between
  }
  while (alive(pid) && !(await isZombie(pid))) await sleep(50);
  return 'killed';
}

async function isZombie(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return / Z /.test(stat.slice(stat.lastIndexOf(')')));
}

export async function removePidFile(l: Layout, name: Component): Promise<void> {
  await rm(join(l.pids, `${name}.pid`), { force: true });
}

export async function logTail(l: Layout, name: Component, lines = 15): Promise<string> {
  const text = await readFile(join(l.logs, `${name}.log`), 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Every process whose command line mentions `needle` (shims of a containerd socket). */
export async function pidsMentioning(needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const p of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(p)) continue;
    const args = await cmdline(Number(p));
    if (args?.some((a) => a.includes(needle))) out.push(Number(p));
  }
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
