// Loopback ports of a local cluster: chosen on the first `skiff up` (the preferred one when free,
// else the next free one) and saved in the state dir, so every later run reuses them.
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';

export interface ClusterPorts {
  etcdClient: number;
  etcdPeer: number;
  registry: number;
  api: number;
  agent: number;
}

export const PREFERRED_PORTS: ClusterPorts = { etcdClient: 23790, etcdPeer: 23800, registry: 5000, api: 6443, agent: 10250 };

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function firstFree(from: number, taken: Set<number>): Promise<number> {
  for (let p = from; p < from + 200 && p < 65536; p++) {
    if (!taken.has(p) && (await portFree(p))) return p;
  }
  throw new Error(`no free loopback port in ${from}..${from + 199}`);
}

export async function loadPorts(file: string): Promise<ClusterPorts | undefined> {
  try {
    const v = JSON.parse(await readFile(file, 'utf8')) as Partial<ClusterPorts>;
    const keys = Object.keys(PREFERRED_PORTS) as (keyof ClusterPorts)[];
    if (keys.every((k) => Number.isInteger(v[k]))) return v as ClusterPorts;
    return undefined;
  } catch {
    return undefined;
  }
}

/** The saved ports, or new ones (saved) on the first run. */
export async function choosePorts(file: string): Promise<ClusterPorts> {
  const saved = await loadPorts(file);
  if (saved) return saved;
  const taken = new Set<number>();
  const out = {} as ClusterPorts;
  for (const k of Object.keys(PREFERRED_PORTS) as (keyof ClusterPorts)[]) {
    out[k] = await firstFree(PREFERRED_PORTS[k], taken);
    taken.add(out[k]);
  }
  await writeFile(file, `${JSON.stringify(out, null, 2)}\n`);
  return out;
}
