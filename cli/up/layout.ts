// Where `skiff up` keeps a local cluster: everything under one state dir (default
// ~/.skiff/cluster), so `skiff down --purge` removes it all with one rm.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Layout {
  stateDir: string;
  logs: string;
  pids: string;
  /** Ports chosen on the first run, kept so the cluster comes back where it was. */
  portsFile: string;
  tokenFile: string;
  /** The control plane's --encryption-key-file (Secrets encrypted at rest). */
  encryptionKeyFile: string;
  etcdData: string;
  registryDir: string;
  containerdDir: string;
  containerdSocket: string;
  agentDir: string;
  /** The LAN of a multi-node cluster (bridge, namespaces, ranges), chosen on its first run. */
  lanFile: string;
  /** nodes/<name>/: a multi-node cluster's per-node containerd and agent. */
  nodesDir: string;
}

export interface NodeLayout {
  containerdDir: string;
  containerdSocket: string;
  agentDir: string;
}

export function nodeLayout(l: Layout, node: string): NodeLayout {
  const dir = join(l.nodesDir, node);
  return { containerdDir: join(dir, 'containerd'), containerdSocket: join(dir, 'containerd', 'containerd.sock'), agentDir: join(dir, 'agent') };
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.HOME || homedir(), '.skiff', 'cluster');
}

export function layout(stateDir: string): Layout {
  const dir = resolve(stateDir);
  return {
    stateDir: dir,
    logs: join(dir, 'logs'),
    pids: join(dir, 'pids'),
    portsFile: join(dir, 'ports.json'),
    tokenFile: join(dir, 'token'),
    encryptionKeyFile: join(dir, 'encryption-keys.yaml'),
    etcdData: join(dir, 'etcd'),
    registryDir: join(dir, 'registry'),
    containerdDir: join(dir, 'containerd'),
    containerdSocket: join(dir, 'containerd', 'containerd.sock'),
    agentDir: join(dir, 'agent'),
    lanFile: join(dir, 'lan.json'),
    nodesDir: join(dir, 'nodes'),
  };
}

let root: string | undefined;

/** The repository (or installed package) root: deploy/, scripts/ and dist/ live there. */
export function repoRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'skiff') return (root = dir);
      } catch {
        // not ours: keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the skiff package root (package.json named "skiff") above the CLI');
    dir = up;
  }
}

/** Compiled entry points (dist/...): the control plane and the node agent run from there. */
export function distEntry(component: 'control-plane' | 'node-agent' | 'cli'): string {
  return join(repoRoot(), 'dist', component, 'main.js');
}
