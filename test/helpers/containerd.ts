// Starts a private containerd (CRI plugin, runc, overlayfs, CNI bridge + host-local + portmap)
// for tests, from the same templates a real node uses (deploy/containerd/*.tmpl): everything
// under one temp dir, its own socket, bridge and /24. stop() removes every pod and container,
// stops containerd and its shims, unmounts what is left, deletes the bridge and the dir.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CriClient } from '../../node-agent/runtime/cri/client.js';
import { REPO_ROOT, sampleImages, type ImageArchive } from './images.js';
// The product's own template rendering (skiff up), so tests run containerd configured alike.
import { mirrorsToml, renderTemplate } from '../../cli/up/containerd.js';

const run = promisify(execFile);

export interface ContainerdOptions {
  /** Pod subnet (a /24); default: a random free 10.2xx.y.0/24. */
  subnet?: string;
  /** Plain-HTTP registries ("127.0.0.1:5000") containerd may pull from. */
  registries?: string[];
  /** Archives to import into the k8s.io namespace; default: every sample image. */
  images?: ImageArchive[];
  /**
   * No CNI config up front: containerd renders it from a template when told the pod CIDR (CRI
   * UpdateRuntimeConfig), as on a node that takes its range from the control plane.
   */
  podCidrFromAgent?: boolean;
}

export interface Containerd {
  /** `unix:///...` CRI address. */
  address: string;
  socket: string;
  stateDir: string;
  subnet: string;
  bridge: string;
  /** Log of the containerd process, for failing tests to print. */
  logFile: string;
  process: ChildProcess;
  importImage(img: ImageArchive): Promise<void>;
  logTail(lines?: number): Promise<string>;
  stop(): Promise<void>;
}

async function pickSubnet(): Promise<string> {
  const { stdout } = await run('ip', ['-4', 'route', 'show']);
  for (let i = 0; i < 100; i++) {
    const prefix = `10.${randomInt(200, 250)}.${randomInt(0, 256)}.`;
    if (!stdout.includes(prefix)) return `${prefix}0/24`;
  }
  throw new Error('no free 10.2xx.y.0/24 subnet for the test pod network');
}

const STATE_PREFIX = '/tmp/skiff-ctrd-';

export async function startContainerd(opts: ContainerdOptions = {}): Promise<Containerd> {
  await sweepAbandoned();
  const stateDir = await mkdtemp(STATE_PREFIX);
  const bridge = `skf${randomBytes(4).toString('hex')}`;
  const socket = join(stateDir, 'containerd.sock');
  let subnet: string;
  try {
    subnet = opts.subnet ?? (await pickSubnet());
    await writeConfig(stateDir, socket, bridge, subnet, opts.registries ?? [], opts.podCidrFromAgent ?? false);
    await writeFile(join(stateDir, 'bridge'), bridge);
  } catch (e) {
    await rm(stateDir, { recursive: true, force: true });
    throw e;
  }
  const logFile = join(stateDir, 'containerd.log');
  const log = createWriteStream(logFile);
  const proc = spawn(process.env.CONTAINERD_BIN ?? 'containerd', ['--config', join(stateDir, 'config.toml'), '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.pipe(log);
  proc.stderr?.pipe(log);
  // If the test process dies without stop(), at least containerd does not outlive it.
  const killOnExit = (): void => {
    proc.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  proc.once('exit', () => process.off('exit', killOnExit));
  const address = `unix://${socket}`;
  const self: Containerd = {
    address,
    socket,
    stateDir,
    subnet,
    bridge,
    logFile,
    process: proc,
    async importImage(img) {
      await run('ctr', ['--address', socket, '-n', 'k8s.io', 'images', 'import', '--base-name', `docker.io/${img.name}`, img.archive], {
        maxBuffer: 16 << 20,
      });
    },
    async logTail(lines = 40) {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      return text.split('\n').slice(-lines).join('\n');
    },
    stop: () => teardown(self),
  };
  try {
    await waitReady(address, proc, 30_000);
    for (const img of opts.images ?? (await sampleImages())) await self.importImage(img);
  } catch (e) {
    const tail = await self.logTail();
    await teardown(self);
    throw new Error(`containerd did not start: ${e instanceof Error ? e.message : String(e)}\n${tail}`);
  }
  return self;
}

async function writeConfig(
  stateDir: string, socket: string, bridge: string, subnet: string, registries: string[], fromAgent: boolean,
): Promise<void> {
  const cniDir = join(stateDir, 'cni');
  await mkdir(cniDir, { recursive: true });
  const tmpl = (f: string): Promise<string> => readFile(join(REPO_ROOT, 'deploy/containerd', f), 'utf8');
  // The same conflist either way; with fromAgent its subnet is left to containerd's Go template.
  const goTemplate = join(stateDir, 'cni.conflist.gotmpl');
  await writeFile(
    fromAgent ? goTemplate : join(cniDir, '10-skiff.conflist'),
    renderTemplate(await tmpl('cni.conflist.tmpl'), {
      NETWORK_NAME: `skiff-${bridge}`,
      BRIDGE: bridge,
      SUBNET: fromAgent ? '{{.PodCIDR}}' : subnet,
      IPAM_DATA_DIR: join(stateDir, 'ipam'),
    }),
  );
  await writeFile(
    join(stateDir, 'config.toml'),
    renderTemplate(await tmpl('config.toml.tmpl'), {
      ROOT: join(stateDir, 'root'),
      STATE: join(stateDir, 'state'),
      ADDRESS: socket,
      SANDBOX_IMAGE: 'docker.io/skiff/pause:1',
      CNI_BIN_DIR: process.env.CNI_BIN_DIR ?? '/usr/lib/cni',
      CNI_CONF_DIR: cniDir,
      CNI_CONF_TEMPLATE: fromAgent ? goTemplate : '',
      REGISTRY_MIRRORS: mirrorsToml(registries),
    }),
  );
}

async function waitReady(address: string, proc: ChildProcess, timeoutMs: number): Promise<void> {
  const c = new CriClient(address);
  const end = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`containerd exited with ${proc.exitCode}`);
      try {
        await c.rt('version', { version: 'v1' }, 1000);
        return;
      } catch (e) {
        if (Date.now() > end) throw e;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    c.close();
  }
}

/**
 * Cleans up after test processes that died without stop(): state dirs whose containerd is
 * gone (no process runs with their config) and that are older than a minute (so one being
 * set up right now is left alone).
 */
async function sweepAbandoned(): Promise<void> {
  const dirs = (await readdir('/tmp').catch(() => [] as string[]))
    .map((d) => `/tmp/${d}`)
    .filter((d) => d.startsWith(STATE_PREFIX));
  if (dirs.length === 0) return;
  const cmdlines = await allCmdlines();
  for (const dir of dirs) {
    const info = await stat(dir).catch(() => undefined);
    if (!info || Date.now() - info.mtimeMs < 60_000) continue;
    if (cmdlines.some((p) => p.args.includes(join(dir, 'config.toml')))) continue;
    const bridge = await readFile(join(dir, 'bridge'), 'utf8').catch(() => '');
    await killShims(join(dir, 'containerd.sock'));
    await unmountUnder(dir);
    if (/^skf[0-9a-f]{8}$/.test(bridge)) await run('ip', ['link', 'del', bridge]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

async function allCmdlines(): Promise<{ pid: number; args: string[] }[]> {
  const out: { pid: number; args: string[] }[] = [];
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd) out.push({ pid: Number(pid), args: cmd.split('\0') });
  }
  return out;
}

async function teardown(d: Containerd): Promise<void> {
  if (d.process.exitCode === null && d.process.signalCode === null) {
    await removeEverything(d.address).catch(() => undefined);
    const exited = new Promise((r) => d.process.once('exit', r));
    d.process.kill('SIGTERM');
    const t = setTimeout(() => d.process.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
  await killShims(d.socket);
  await unmountUnder(d.stateDir);
  await run('ip', ['link', 'del', d.bridge]).catch(() => undefined);
  await rm(d.stateDir, { recursive: true, force: true });
}

/** Every container and sandbox this containerd knows, stopped and removed through the CRI. */
async function removeEverything(address: string): Promise<void> {
  const c = new CriClient(address);
  try {
    const { containers } = await c.rt('listContainers', {}, 10_000);
    for (const ct of containers) {
      await c.rt('stopContainer', { containerId: ct.id, timeout: 0 }, 30_000).catch(() => undefined);
      await c.rt('removeContainer', { containerId: ct.id }, 30_000).catch(() => undefined);
    }
    const { items } = await c.rt('listPodSandbox', {}, 10_000);
    for (const sb of items) {
      await c.rt('stopPodSandbox', { podSandboxId: sb.id }, 60_000).catch(() => undefined);
      await c.rt('removePodSandbox', { podSandboxId: sb.id }, 60_000).catch(() => undefined);
    }
  } finally {
    c.close();
  }
}

/** Shims outlive containerd when a container is still running: end the ones of this socket. */
async function killShims(socket: string): Promise<void> {
  for (const { pid, args } of await allCmdlines()) {
    if (args[0]?.includes('containerd-shim') && args.includes(socket)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m]).catch(() => undefined);
}
