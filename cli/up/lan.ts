// The cluster "LAN" of `skiff up --nodes N`: one host bridge with no uplink, and per node nK a
// network namespace joined to it by a veth pair, the way kind and k3d give each node its own
// network stack. The choices (names, the /24, the cluster CIDR) are made on the first run and
// kept in lan.json, so later runs and `skiff down --purge` find exactly what was made. Nothing
// here touches the host's own interfaces or default route: the host gets the bridge address,
// and one route per node pod range via that node, tagged like the agents' routes (proto 157).
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { formatCidr, formatIPv4, mustParseCidr, overlaps, parseCidr, type Cidr } from '../../proto/api/cidr.js';

const run = promisify(execFile);

/** Route protocol of the agents' routes (node-agent/network/routes): the host's pod routes use it too. */
export const ROUTE_PROTOCOL = '157';

/** Name prefix for the namespaces, veths and bridge; tests set their own so runs never collide. */
export const PREFIX_ENV = 'SKIFF_UP_NAME_PREFIX';
export const DEFAULT_PREFIX = 'skiff';
export const PREFERRED_CLUSTER_CIDR = '10.244.0.0/16';
export const MAX_NODES = 50;

export interface Lan {
  prefix: string;
  nodes: number;
  bridge: string;
  /** The LAN, a /24. */
  subnet: string;
  /** The bridge's address: control plane, registry and CLI are reached here. */
  hostAddress: string;
  /** The whole pod network; each node gets a /24 of it from the control plane. */
  clusterCidr: string;
}

export interface LanNode {
  name: string;
  netns: string;
  /** Host end of the veth pair (the node end is eth0 inside the namespace). */
  veth: string;
  address: string;
}

export function checkPrefix(prefix: string): string {
  // Interface names are at most 15 bytes: prefix + "-lan" / "-v50" must fit.
  if (!/^[a-z][a-z0-9]{0,9}$/.test(prefix)) throw new Error(`${PREFIX_ENV}="${prefix}" must be a lowercase letter then up to 9 lowercase letters or digits`);
  return prefix;
}

export function lanNodes(lan: Lan): LanNode[] {
  const base = mustParseCidr(lan.subnet).base;
  return Array.from({ length: lan.nodes }, (_, i) => ({
    name: `n${i + 1}`,
    netns: `${lan.prefix}-n${i + 1}`,
    veth: `${lan.prefix}-v${i + 1}`,
    address: formatIPv4(base + 11 + i),
  }));
}

export async function loadLan(file: string): Promise<Lan | undefined> {
  try {
    const v = JSON.parse(await readFile(file, 'utf8')) as Partial<Lan>;
    if (typeof v.prefix !== 'string' || typeof v.nodes !== 'number' || typeof v.bridge !== 'string' || typeof v.subnet !== 'string'
      || typeof v.hostAddress !== 'string' || typeof v.clusterCidr !== 'string') return undefined;
    return v as Lan;
  } catch {
    return undefined;
  }
}

/** Every IPv4 destination the host routes now (any table), as CIDRs. */
async function hostRoutes(): Promise<Cidr[]> {
  const { stdout } = await run('ip', ['-4', '-json', 'route', 'show', 'table', 'all']);
  const out: Cidr[] = [];
  for (const r of JSON.parse(stdout || '[]') as { dst?: string }[]) {
    if (!r.dst || r.dst === 'default') continue;
    const c = parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`);
    if (typeof c !== 'string') out.push(c);
  }
  return out;
}

/** A range of the given size that no host route overlaps: the preferred one, else a random one. */
export function freeRange(taken: Cidr[], preferred: string | undefined, candidate: () => string, tries = 200): string {
  const free = (s: string): boolean => !taken.some((t) => overlaps(t, mustParseCidr(s)));
  if (preferred && free(preferred)) return preferred;
  for (let i = 0; i < tries; i++) {
    const c = candidate();
    if (free(c)) return c;
  }
  throw new Error('no free private range for the cluster network: every candidate overlaps a route of this host');
}

/** The saved LAN, or a new one chosen now (and saved) on the first run. */
export async function chooseLan(file: string, nodes: number, env: NodeJS.ProcessEnv): Promise<Lan> {
  const saved = await loadLan(file);
  if (saved) return saved;
  const prefix = checkPrefix(env[PREFIX_ENV] || DEFAULT_PREFIX);
  const taken = await hostRoutes();
  const clusterCidr = freeRange(taken, PREFERRED_CLUSTER_CIDR, () => `10.${randomInt(200, 244)}.0.0/16`);
  const cluster = mustParseCidr(clusterCidr);
  const subnet = freeRange([...taken, cluster, mustParseCidr('10.96.0.0/12')], undefined,
    () => (randomInt(2) ? `10.${randomInt(100, 200)}.${randomInt(0, 256)}.0/24` : `172.${randomInt(16, 32)}.${randomInt(0, 256)}.0/24`));
  const lan: Lan = {
    prefix, nodes, bridge: `${prefix}-lan`, subnet, hostAddress: formatIPv4(mustParseCidr(subnet).base + 1), clusterCidr,
  };
  await writeFile(file, `${JSON.stringify(lan, null, 2)}\n`);
  return lan;
}

async function ip(args: string[]): Promise<string> {
  return (await run('ip', args)).stdout;
}

async function linkExists(name: string): Promise<boolean> {
  return ip(['link', 'show', 'dev', name]).then(() => true, () => false);
}

export const netnsPath = (ns: string): string => `/var/run/netns/${ns}`;

/** argv running `argv` inside the namespace: nsenter --net only (ip netns exec would remount /sys and hide the cgroups). */
export function inNetns(ns: string, argv: string[]): string[] {
  return ['nsenter', `--net=${netnsPath(ns)}`, ...argv];
}

async function inNs(ns: string, argv: string[]): Promise<string> {
  const [cmd, ...args] = inNetns(ns, argv);
  return (await run(cmd ?? 'nsenter', args)).stdout;
}

/** Bridge, namespaces, veths and addresses; what exists already is left as it is. Returns what it made. */
export async function ensureLan(lan: Lan): Promise<string[]> {
  const made: string[] = [];
  const prefixLen = String(mustParseCidr(lan.subnet).bits);
  if (!(await linkExists(lan.bridge))) {
    await ip(['link', 'add', lan.bridge, 'type', 'bridge']);
    made.push(`bridge ${lan.bridge}`);
  }
  await ip(['addr', 'replace', `${lan.hostAddress}/${prefixLen}`, 'dev', lan.bridge]);
  await ip(['link', 'set', lan.bridge, 'up']);
  for (const n of lanNodes(lan)) {
    if (!existsSync(netnsPath(n.netns))) {
      await ip(['netns', 'add', n.netns]);
      made.push(`netns ${n.netns}`);
    }
    await inNs(n.netns, ['ip', 'link', 'set', 'lo', 'up']);
    if (!(await linkExists(n.veth))) {
      // The peer is created inside the namespace directly, so no host name is ever taken by it.
      await ip(['link', 'add', n.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.netns]);
    }
    await ip(['link', 'set', n.veth, 'master', lan.bridge, 'up']);
    await inNs(n.netns, ['ip', 'addr', 'replace', `${n.address}/${prefixLen}`, 'dev', 'eth0']);
    await inNs(n.netns, ['ip', 'link', 'set', 'eth0', 'up']);
    // The node routes pod traffic between its pod bridge and the LAN (the CNI bridge plugin
    // sets it too, but only once the first pod starts).
    await inNs(n.netns, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  }
  return made;
}

/**
 * With br_netfilter on, traffic bridged between node namespaces passes the host's iptables
 * FORWARD chain: a DROP policy there (dockerd sets one) silently cuts the nodes apart. Skiff
 * does not change the host's firewall; it says so instead.
 */
export async function forwardWarning(): Promise<string | undefined> {
  const bridged = (await readFile('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').catch(() => '0')).trim() === '1';
  if (!bridged) return undefined;
  const rules = await run('iptables', ['-S', 'FORWARD']).then((r) => r.stdout, () => '');
  return rules.split('\n').includes('-P FORWARD DROP')
    ? 'the host\'s iptables FORWARD policy is DROP and bridged traffic passes it (bridge-nf-call-iptables=1): traffic between nodes may be dropped'
    : undefined;
}

/** The host's route to a node's pods, through the bridge (so `curl http://<pod IP>:8080/` works from the host). */
export async function hostPodRoute(lan: Lan, podCidr: string, via: string): Promise<void> {
  await ip(['route', 'replace', formatCidr(mustParseCidr(podCidr)), 'via', via, 'dev', lan.bridge, 'proto', ROUTE_PROTOCOL]);
}

async function delLinkIfThere(name: string): Promise<void> {
  try {
    await ip(['link', 'del', name]);
  } catch (e) {
    if (!/Cannot find device/.test(e instanceof Error ? e.message : String(e))) throw e;
  }
}

/** Removes namespaces, veths, the bridge and (with it) the host's pod routes. Returns what went. */
export async function removeLan(lan: Lan): Promise<string[]> {
  const gone: string[] = [];
  for (const n of lanNodes(lan)) {
    if (existsSync(netnsPath(n.netns))) {
      await ip(['netns', 'del', n.netns]);
      gone.push(n.netns);
    }
    // Deleting the namespace takes its veth end and so the pair, in the background: a host end
    // still listed may vanish before our delete, which then has nothing left to do.
    if (await linkExists(n.veth)) await delLinkIfThere(n.veth);
  }
  const routes = (await ip(['-4', 'route', 'show', 'dev', lan.bridge, 'proto', ROUTE_PROTOCOL]).catch(() => ''))
    .split('\n').map((r) => r.trim().split(' ')[0]).filter((d): d is string => !!d);
  for (const dst of routes) await ip(['route', 'del', dst, 'dev', lan.bridge, 'proto', ROUTE_PROTOCOL]).catch(() => undefined);
  if (await linkExists(lan.bridge)) {
    await ip(['link', 'del', lan.bridge]);
    gone.push(lan.bridge);
  }
  return gone;
}
