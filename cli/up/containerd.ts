// This node's containerd (CRI plugin + CNI): config rendered from deploy/containerd/*.tmpl into
// the state dir, health through the CRI Version call, and a teardown that removes every pod
// sandbox and container through the CRI first (so CNI releases IPs and network namespaces)
// before containerd and its shims stop.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { RuntimeServiceClient, type ListContainersResponse, type ListPodSandboxResponse } from '../../proto/gen/runtime/v1/api.js';
import { repoRoot, type Layout } from './layout.js';
import { pidsMentioning } from './processes.js';

const run = promisify(execFile);

export const BRIDGE = 'skiff0';
export const POD_CIDR = '10.88.0.0/24';
export const NETWORK_NAME = 'skiff';

/** Replaces every {{NAME}}; a placeholder without a value is an error, never an empty string. */
export function renderTemplate(text: string, vars: Record<string, string>): string {
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_m, key: string) => {
    const v = vars[key];
    if (v === undefined) throw new Error(`template placeholder {{${key}}} has no value`);
    return v;
  });
}

export function mirrorsToml(registries: string[]): string {
  return registries
    .map((r) => `        [plugins."io.containerd.grpc.v1.cri".registry.mirrors."${r}"]\n          endpoint = ["http://${r}"]`)
    .join('\n');
}

export async function writeContainerdConfig(l: Layout, registry: string): Promise<string> {
  const dir = l.containerdDir;
  const cniDir = join(dir, 'cni');
  await mkdir(cniDir, { recursive: true });
  const tmpl = (f: string): Promise<string> => readFile(join(repoRoot(), 'deploy', 'containerd', f), 'utf8');
  await writeFile(
    join(cniDir, '10-skiff.conflist'),
    renderTemplate(await tmpl('cni.conflist.tmpl'), {
      NETWORK_NAME, BRIDGE, SUBNET: POD_CIDR, IPAM_DATA_DIR: join(dir, 'ipam'),
    }),
  );
  const config = join(dir, 'config.toml');
  await writeFile(
    config,
    renderTemplate(await tmpl('config.toml.tmpl'), {
      ROOT: join(dir, 'root'),
      STATE: join(dir, 'state'),
      ADDRESS: l.containerdSocket,
      SANDBOX_IMAGE: `${registry}/skiff/pause:1`,
      CNI_BIN_DIR: process.env.CNI_BIN_DIR ?? '/usr/lib/cni',
      CNI_CONF_DIR: cniDir,
      // The conflist above already holds this node's range (the agent also gets --pod-cidr).
      CNI_CONF_TEMPLATE: '',
      REGISTRY_MIRRORS: mirrorsToml([registry]),
    }),
  );
  return config;
}

/**
 * A node of `skiff up --nodes N`: its own containerd under dir (config, root, state, socket, runc
 * root, CNI conf dir), and no CNI config up front: containerd writes it from the conflist
 * template once the node agent sends the pod CIDR the control plane gave the Node (CRI
 * UpdateRuntimeConfig). The bridge name is the same on every node: each has its own namespace.
 */
export async function writeNodeContainerdConfig(dir: string, socket: string, registry: string): Promise<string> {
  const cniDir = join(dir, 'cni');
  await mkdir(cniDir, { recursive: true });
  const tmpl = (f: string): Promise<string> => readFile(join(repoRoot(), 'deploy', 'containerd', f), 'utf8');
  const goTemplate = join(dir, 'cni.conflist.gotmpl');
  await writeFile(goTemplate, renderTemplate(await tmpl('cni.conflist.tmpl'), {
    NETWORK_NAME, BRIDGE, SUBNET: '{{.PodCIDR}}', IPAM_DATA_DIR: join(dir, 'ipam'),
  }));
  const config = join(dir, 'config.toml');
  await writeFile(config, renderTemplate(await tmpl('config.toml.tmpl'), {
    ROOT: join(dir, 'root'),
    STATE: join(dir, 'state'),
    ADDRESS: socket,
    SANDBOX_IMAGE: `${registry}/skiff/pause:1`,
    CNI_BIN_DIR: process.env.CNI_BIN_DIR ?? '/usr/lib/cni',
    CNI_CONF_DIR: cniDir,
    CNI_CONF_TEMPLATE: goTemplate,
    REGISTRY_MIRRORS: mirrorsToml([registry]),
  }));
  return config;
}

type Cb<T> = (err: ServiceError | null, res: T) => void;

/** A tiny promisified CRI RuntimeService client on a containerd socket. */
export class Cri {
  private readonly c: RuntimeServiceClient;
  constructor(socket: string) {
    this.c = new RuntimeServiceClient(`unix://${socket}`, credentials.createInsecure());
  }
  private call<T>(fn: (md: Metadata, opts: { deadline: number }, cb: Cb<T>) => unknown, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      fn(new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }
  version(timeoutMs = 1000): Promise<unknown> {
    return this.call((md, o, cb) => this.c.version({ version: 'v1' }, md, o, cb), timeoutMs);
  }
  async containers(): Promise<string[]> {
    const r = await this.call<ListContainersResponse>((md, o, cb) => this.c.listContainers({}, md, o, cb), 10_000);
    return r.containers.map((c) => c.id);
  }
  async sandboxes(): Promise<string[]> {
    const r = await this.call<ListPodSandboxResponse>((md, o, cb) => this.c.listPodSandbox({}, md, o, cb), 10_000);
    return r.items.map((s) => s.id);
  }
  async removeContainer(id: string): Promise<void> {
    await this.call((md, o, cb) => this.c.stopContainer({ containerId: id, timeout: 0 }, md, o, cb), 30_000).catch(() => undefined);
    await this.call((md, o, cb) => this.c.removeContainer({ containerId: id }, md, o, cb), 30_000);
  }
  async removeSandbox(id: string): Promise<void> {
    await this.call((md, o, cb) => this.c.stopPodSandbox({ podSandboxId: id }, md, o, cb), 60_000).catch(() => undefined);
    await this.call((md, o, cb) => this.c.removePodSandbox({ podSandboxId: id }, md, o, cb), 60_000);
  }
  close(): void {
    this.c.close();
  }
}

export async function containerdHealthy(socket: string): Promise<boolean> {
  const c = new Cri(socket);
  try {
    await c.version();
    return true;
  } catch {
    return false;
  } finally {
    c.close();
  }
}

/** Removes every container and sandbox; returns how many of each went, and the failures. */
export async function removeAllPods(socket: string): Promise<{ containers: number; sandboxes: number; errors: string[] }> {
  const c = new Cri(socket);
  const errors: string[] = [];
  let containers = 0;
  let sandboxes = 0;
  try {
    for (const id of await c.containers()) {
      await c.removeContainer(id).then(() => containers++, (e: Error) => errors.push(`container ${id.slice(0, 12)}: ${e.message}`));
    }
    for (const id of await c.sandboxes()) {
      await c.removeSandbox(id).then(() => sandboxes++, (e: Error) => errors.push(`sandbox ${id.slice(0, 12)}: ${e.message}`));
    }
  } finally {
    c.close();
  }
  return { containers, sandboxes, errors };
}

/** Shims outlive containerd while a container runs: end the ones serving this socket. */
export async function killShims(socket: string): Promise<number> {
  const pids = (await pidsMentioning(socket)).filter((p) => p !== process.pid);
  let n = 0;
  for (const pid of pids) {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (!comm.startsWith('containerd-shim')) continue;
    try {
      process.kill(pid, 'SIGKILL');
      n++;
    } catch {
      // already gone
    }
  }
  return n;
}

/** Lazily unmounts everything mounted under dir (rootfs, netns, shm), deepest first. */
export async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\040/g, ' '))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m]).catch(() => undefined);
}

export async function deleteBridge(): Promise<boolean> {
  try {
    await run('ip', ['link', 'del', BRIDGE]);
    return true;
  } catch {
    return false;
  }
}

/**
 * The portmap plugin's shared chains stay after the last pod is gone. They are removed only
 * when empty of per-pod rules, so another CNI user on this host keeps working.
 */
export async function removeIdleHostportChains(): Promise<string[]> {
  const removed: string[] = [];
  let rules: string;
  try {
    rules = (await run('iptables', ['-t', 'nat', '-S'])).stdout;
  } catch {
    return removed;
  }
  const lines = rules.split('\n');
  if (!lines.includes('-N CNI-HOSTPORT-DNAT')) return removed;
  if (lines.some((l) => l.startsWith('-A CNI-HOSTPORT-DNAT '))) return removed;
  const chains = ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-MASQ', 'CNI-HOSTPORT-SETMARK'];
  for (const l of lines) {
    const m = /^-A (PREROUTING|OUTPUT|POSTROUTING) (.*-j (CNI-HOSTPORT-[A-Z]+).*)$/.exec(l);
    if (m?.[1] && m[2] && chains.includes(m[3] ?? '')) {
      await run('iptables', ['-t', 'nat', '-D', m[1], ...splitRule(m[2])]).catch(() => undefined);
    }
  }
  for (const ch of chains) {
    if (!lines.includes(`-N ${ch}`)) continue;
    await run('iptables', ['-t', 'nat', '-F', ch]).catch(() => undefined);
    await run('iptables', ['-t', 'nat', '-X', ch]).then(() => removed.push(ch), () => undefined);
  }
  return removed;
}

/** iptables -S prints quoted comments: split on spaces outside double quotes. */
function splitRule(rule: string): string[] {
  return (rule.match(/"[^"]*"|\S+/g) ?? []).map((t) => t.replace(/^"(.*)"$/, '$1'));
}
