// Network namespaces for tests of real kernel networking (nftables, veth, routes). Every name
// carries a random suffix so parallel runs never collide, and everything is deleted in cleanup.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Why kernel tests cannot run here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces and nftables)';
  for (const bin of ['/usr/sbin/nft', '/usr/sbin/ip', '/usr/bin/nsenter']) {
    if (!existsSync(bin)) return `${bin} is missing (apt-get install nftables iproute2 util-linux)`;
  }
  return undefined;
}

export async function run(argv: string[], input?: string): Promise<string> {
  const [cmd, ...args] = argv;
  if (input === undefined) return (await exec(cmd!, args)).stdout;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')}: exit ${code}: ${err}`))));
    child.stdin.end(input);
  });
}

export function uniqueName(prefix: string): string {
  // Interface names are limited to 15 characters: keep prefixes short.
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

/** argv that runs `argv` inside the namespace (nsenter, so /sys is left alone). */
export function inNetns(ns: string, argv: string[]): string[] {
  return ['nsenter', `--net=/var/run/netns/${ns}`, ...argv];
}

export async function addNetns(name: string): Promise<void> {
  await run(['ip', 'netns', 'add', name]);
  await run(inNetns(name, ['ip', 'link', 'set', 'lo', 'up']));
}

export async function deleteNetns(name: string): Promise<void> {
  if (existsSync(`/var/run/netns/${name}`)) await run(['ip', 'netns', 'del', name]);
}

/** A veth pair between two namespaces with one address on each end (CIDR notation). */
export async function vethBetween(a: { ns: string; addr: string }, b: { ns: string; addr: string }): Promise<void> {
  const ia = uniqueName('va');
  const ib = uniqueName('vb');
  await run(['ip', 'link', 'add', ia, 'netns', a.ns, 'type', 'veth', 'peer', 'name', ib, 'netns', b.ns]);
  for (const [ns, dev, addr] of [[a.ns, ia, a.addr], [b.ns, ib, b.addr]] as const) {
    await run(inNetns(ns, ['ip', 'addr', 'add', addr, 'dev', dev]));
    await run(inNetns(ns, ['ip', 'link', 'set', dev, 'up']));
  }
}

/** Starts `node -e script` in the namespace; resolves once it prints a line containing `ready`. */
export function nodeIn(ns: string, script: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = inNetns(ns, [process.execPath, '--input-type=module', '-e', script]);
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout.on('data', (b: Buffer) => {
      if (b.toString().includes('ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`node in ${ns} exited ${code}: ${err}`)));
  });
}
