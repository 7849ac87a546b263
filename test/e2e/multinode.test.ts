// `skiff up --nodes 3` end to end, the real command on real parts: three network namespaces on a
// bridge of their own, a containerd and a node agent in each, pod ranges from the control
// plane, host-gw routes between the nodes. A Deployment spreads over the nodes, a pod reaches a
// pod of another node by pod IP and arrives with its own IP as source (no NAT), and
// `skiff down --purge` leaves nothing behind. Every name carries a random prefix
// (SKIFF_UP_NAME_PREFIX), and traffic goes only to addresses inside this run's namespaces.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrapAs } from '../../proto/api/kinds.js';
import { containsCidr, mustParseCidr } from '../../proto/api/cidr.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { ContainerState, PodSandboxState } from '../../proto/gen/runtime/v1/api.js';
import { Api } from '../../cli/client.js';
import { missingPackages } from '../../cli/up/up.js';
import { ADMIN_USER, parseTokenUsers } from '../../cli/up/credentials.js';
import type { Lan } from '../../cli/up/lan.js';
import type { ClusterPorts } from '../../cli/up/ports.js';
import { CriClient } from '../../node-agent/runtime/cri/client.js';
import { LABEL_POD_NAME } from '../../node-agent/runtime/labels.js';
import { REPO_ROOT } from '../helpers/images.js';
import { startLoad } from '../helpers/load.js';
import { skiffRunner, spreadManifest } from '../helpers/multinode.js';
import { netnsUnavailable } from '../helpers/netns.js';
import { until } from '../helpers/wait.js';
import { ensureBuilt, execInPod, ok } from './cluster.js';

const run = promisify(execFile);
const CLI = join(process.env.SKIFF_E2E_DIST ?? join(REPO_ROOT, 'dist'), 'cli', 'main.js');
const prefix = `sk${randomBytes(3).toString('hex')}`;
const NODES = ['n1', 'n2', 'n3'];

const skip = netnsUnavailable() ?? ((await missingPackages(process.env)).length
  ? `missing Debian packages: ${(await missingPackages(process.env)).join(' ')}` : undefined);
if (skip) console.warn(`skipping skiff up --nodes 3 e2e: ${skip}`);

let dir = '';
let stateDir = '';
let lan: Lan;
let api: Api | undefined;
let registry = '';
const cris = new Map<string, CriClient>();

const skiff = skiffRunner(CLI, () => dir, prefix);

async function logs(): Promise<string> {
  const parts: string[] = [];
  for (const f of ['control-plane', ...NODES.map((n) => `node-agent-${n}`), ...NODES.map((n) => `containerd-${n}`)]) {
    const text = await readFile(join(stateDir, 'logs', `${f}.log`), 'utf8').catch(() => '');
    parts.push(`--- ${f} ---\n${text.trimEnd().split('\n').slice(-20).join('\n')}`);
  }
  return parts.join('\n');
}

async function skiffTables(): Promise<string[]> {
  const out = (await run('nft', ['list', 'tables'])).stdout;
  return out.split('\n').filter((l) => / skiff-(proxy|nat)$/.test(l)).sort();
}

let tablesBefore: string[] = [];

beforeAll(async () => {
  if (skip) return;
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'skiff-e2e-nodes-'));
  stateDir = join(dir, 'cluster');
  tablesBefore = await skiffTables();
  const t0 = Date.now();
  const r = await skiff(['up', '--nodes', '3', '--state-dir', stateDir, '--no-example']);
  const seconds = (Date.now() - t0) / 1000;
  if (r.code !== 0) throw new Error(`skiff up --nodes 3 exited ${r.code}:\n${r.out}\n${r.err}\n${await logs()}`);
  console.log(`time to 3 Ready nodes (skiff up --nodes 3, fresh state dir, images cached): ${seconds.toFixed(1)} s\n${r.out}`);
  lan = JSON.parse(await readFile(join(stateDir, 'lan.json'), 'utf8')) as Lan;
  const ports = JSON.parse(await readFile(join(stateDir, 'ports.json'), 'utf8')) as ClusterPorts;
  const token = parseTokenUsers(await readFile(join(stateDir, 'token'), 'utf8')).get(ADMIN_USER) ?? '';
  api = new Api({ server: `${lan.hostAddress}:${ports.api}`, token, tls: { ca: await readFile(join(stateDir, 'pki', 'ca.crt'), 'utf8') } });
  registry = `${lan.hostAddress}:${ports.registry}`;
  for (const n of NODES) cris.set(n, new CriClient(join(stateDir, 'nodes', n, 'containerd', 'containerd.sock')));
}, 300_000);

afterAll(async () => {
  if (skip) return;
  api?.close();
  for (const c of cris.values()) c.close();
  // After a failed test the purge test may not have run: leave nothing behind either way.
  if (existsSync(stateDir)) await skiff(['down', '--purge', '--state-dir', stateDir]);
  for (const n of NODES) await run('ip', ['netns', 'del', `${prefix}-${n}`]).catch(() => undefined);
  await run('ip', ['link', 'del', `${prefix}-lan`]).catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
}, 180_000);

async function lanAddress(node: string): Promise<string> {
  const n = unwrapAs('Node', await api!.get({ kind: 'Node', name: node }));
  const address = n.status?.addresses.find((a) => a.type === 'InternalIP')?.address;
  if (!address) throw new Error(`node ${node} has no InternalIP`);
  return address;
}

async function pods(): Promise<Pod[]> {
  return (await api!.list({ kind: 'Pod', namespace: 'default', labelSelector: 'app=spread' })).items
    .map((r) => unwrapAs('Pod', r))
    .filter((p) => !p.metadata?.deletionTimestamp);
}

/** Runs a command in the pod's container through its node's containerd. */
function exec(p: Pod, cmd: string[], timeoutSeconds = 10): ReturnType<typeof execInPod> {
  const cri = cris.get(p.spec?.nodeName ?? '');
  if (!cri) throw new Error(`pod ${p.metadata?.name} is on no node of this cluster`);
  return execInPod(cri, p.metadata?.name ?? '', cmd, timeoutSeconds);
}

describe.skipIf(skip !== undefined).sequential('skiff up --nodes 3', () => {
  let spread: Pod[] = [];

  it('brings up 3 Ready nodes, each with its own pod range of the cluster CIDR', async () => {
    const nodes = (await api!.list({ kind: 'Node' })).items.map((r) => unwrapAs('Node', r));
    expect(nodes.map((n) => n.metadata?.name).sort()).toEqual(NODES);
    for (const n of nodes) {
      expect(n.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True')).toBe(true);
      expect(containsCidr(mustParseCidr(lan.clusterCidr), mustParseCidr(n.spec?.podCIDR ?? '0.0.0.0/0'))).toBe(true);
      // The agent published its LAN address, where the other nodes route this node's pods.
      expect(containsCidr(mustParseCidr(lan.subnet), mustParseCidr(`${n.status?.addresses.find((a) => a.type === 'InternalIP')?.address}/32`))).toBe(true);
    }
    expect(new Set(nodes.map((n) => n.spec?.podCIDR)).size).toBe(3);
    for (const n of NODES) {
      const inNs = async (argv: string[]): Promise<string> => (await run('nsenter', [`--net=/var/run/netns/${prefix}-${n}`, ...argv])).stdout;
      // Nothing a node runs can leave the machine: no default route, only the LAN, its pod
      // bridge and the agents' routes to the other nodes' pod ranges.
      expect(await inNs(['ip', '-4', 'route', 'show', 'default'])).toBe('');
      const others = nodes.filter((x) => x.metadata?.name !== n).map((x) => x.spec?.podCIDR ?? '').sort();
      await until(async () => (await inNs(['ip', '-4', 'route', 'show', 'proto', '157'])).split('\n').filter(Boolean).map((l) => l.split(' ')[0]).sort().join() === others.join(),
        30_000, `${n} routes the other nodes' pod ranges`);
      expect((await inNs(['sysctl', '-n', 'net.ipv4.ip_forward'])).trim()).toBe('1');
    }
  });

  it('spreads a 6-replica Deployment over the 3 nodes', async () => {
    const yaml = spreadManifest(registry, 6);
    const file = join(dir, 'spread.yaml');
    await writeFile(file, yaml);
    ok(await skiff(['apply', '-f', file]), 'apply');
    const r = await skiff(['rollout', 'status', 'deploy/spread', '--timeout', '3m']);
    if (r.code !== 0) throw new Error(`rollout: ${r.out}${r.err}\n${await logs()}`);
    spread = await pods();
    expect(spread).toHaveLength(6);
    const perNode = new Map<string, number>();
    for (const p of spread) perNode.set(p.spec?.nodeName ?? '', (perNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
    expect([...perNode.keys()].sort()).toEqual(NODES);
  }, 240_000);

  it('a pod on n1 reaches a pod on n3 by pod IP, and the request arrives from its own pod IP', async () => {
    const a = spread.find((p) => p.spec?.nodeName === 'n1')!;
    const b = spread.find((p) => p.spec?.nodeName === 'n3')!;
    const aIp = a.status?.podIP ?? '';
    const bIp = b.status?.podIP ?? '';
    const n1Range = mustParseCidr((await api!.get({ kind: 'Node', name: 'n1' }).then((r) => unwrapAs('Node', r))).spec?.podCIDR ?? '');
    expect(containsCidr(n1Range, mustParseCidr(`${aIp}/32`))).toBe(true);
    // Through `skiff exec` as a user would: CLI -> control plane -> n1's agent -> CRI.
    const get = await skiff(['exec', a.metadata?.name ?? '', '--', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${bIp} 8080`]);
    expect(get.code, get.err).toBe(0);
    expect((JSON.parse(get.out.split('\r\n\r\n')[1] ?? '{}') as { pod?: string }).pod).toBe(b.metadata?.name);

    // A one-shot server in b answers each connection with b's own socket table (busybox nc -e),
    // so the client reads the peer address b saw.
    const server = exec(b, ['nc', '-l', '-p', '9000', '-e', 'netstat', '-tn'], 30);
    let table = '';
    await until(async () => {
      table = (await exec(a, ['sh', '-c', `nc -w 5 ${bIp} 9000 </dev/null`])).out;
      return table.includes(`${bIp}:9000`);
    }, 20_000, `nc server in ${b.metadata?.name} answers`);
    await server;
    const row = table.split('\n').find((l) => l.includes(`${bIp}:9000`)) ?? '';
    const peer = row.trim().split(/\s+/)[4] ?? '';
    expect(peer.replace(/^::ffff:/, '').split(':')[0]).toBe(aIp);
  }, 60_000);

  it('skiff exec passes the command\'s exit code and output streams through', async () => {
    const a = spread.find((p) => p.spec?.nodeName === 'n2')!;
    const r = await skiff(['exec', a.metadata?.name ?? '', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r.code).toBe(7);
    expect(r.out).toBe('out\n');
    expect(r.err).toBe('err\n');
  }, 30_000);

  it('answers the NodePort on every node\'s LAN address from the host, with pods of every node', async () => {
    const svc = unwrapAs('Service', await api!.get({ kind: 'Service', namespace: 'default', name: 'spread' }));
    const port = svc.spec?.ports[0]?.nodePort ?? 0;
    expect(port).toBeGreaterThan(0);
    const nodeOf = new Map(spread.map((p) => [p.metadata?.name ?? '', p.spec?.nodeName ?? '']));
    for (const n of NODES) {
      const address = await lanAddress(n);
      const servedFrom = new Set<string>();
      await until(async () => {
        const res = await fetch(`http://${address}:${port}/`, { signal: AbortSignal.timeout(3000) }).then((r) => r.json() as Promise<{ pod?: string }>, () => ({ pod: '' }));
        servedFrom.add(nodeOf.get(res.pod ?? '') ?? '');
        return NODES.every((x) => servedFrom.has(x));
      }, 60_000, `NodePort ${port} on ${n} (${address}) served by pods of n1, n2 and n3`);
    }
  }, 200_000);

  it('forwards a LoadBalancer port on the host\'s 127.0.0.1 to the nodes (host-lb), with pods of every node', async () => {
    expect((await run('nft', ['list', 'table', 'ip', `${prefix}_hostlb`])).stdout).toContain('masquerade');
    // A random high port outside the NodePort range, so parallel runs do not collide.
    const lbPort = 20000 + Math.floor(Math.random() * 9000);
    const file = join(dir, 'spread-lb.yaml');
    await writeFile(file, `apiVersion: v1
kind: Service
metadata: {name: spread-lb}
spec:
  type: LoadBalancer
  selector: {app: spread}
  ports: [{name: http, port: ${lbPort}, targetPort: http}]
`);
    ok(await skiff(['apply', '-f', file]), 'apply LoadBalancer');
    const nodeOf = new Map(spread.map((p) => [p.metadata?.name ?? '', p.spec?.nodeName ?? '']));
    const servedFrom = new Set<string>();
    await until(async () => {
      const res = await fetch(`http://127.0.0.1:${lbPort}/`, { signal: AbortSignal.timeout(3000) }).then((r) => r.json() as Promise<{ pod?: string }>, () => ({ pod: '' }));
      servedFrom.add(nodeOf.get(res.pod ?? '') ?? '');
      return NODES.every((x) => servedFrom.has(x));
    }, 60_000, `127.0.0.1:${lbPort} served by pods of n1, n2 and n3`);
    ok(await skiff(['delete', 'service', 'spread-lb']), 'delete LoadBalancer');
    await until(async () => !(await run('nft', ['list', 'table', 'ip', `${prefix}_hostlb`])).stdout.includes(`dport ${lbPort}`), 30_000, 'forwarding removed');
  }, 120_000);

  it('skiff compose up -d runs the counter-volume example over the nodes; 127.0.0.1 counts up, and down -v removes it', async () => {
    // The shipped file as it is, in a folder named for the project; registry and port from its .env.
    const project = `counter-${prefix}`;
    const cdir = join(dir, project);
    await mkdir(cdir);
    const file = join(cdir, 'compose.yaml');
    await copyFile(join(REPO_ROOT, 'deploy/compose/counter-volume/compose.yaml'), file);
    const webPort = 20000 + Math.floor(Math.random() * 9000);
    await writeFile(join(cdir, '.env'), `SKIFF_REGISTRY=${registry}\nWEB_PORT=${webPort}\n`);
    const started = Date.now();
    const up = await skiff(['compose', '-f', file, 'up', '-d', '--wait', '--wait-timeout', '180s']);
    if (up.code !== 0) throw new Error(`compose up: ${up.out}${up.err}\n${await logs()}`);
    // A figure for the README, not an assertion.
    console.log(`3 nodes: compose up -d --wait of counter-volume: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const web = (await api!.list({ kind: 'Pod', namespace: project, labelSelector: 'com.docker.compose.service=web' })).items.map((r) => unwrapAs('Pod', r));
    expect(new Set(web.map((p) => p.spec?.nodeName)).size).toBeGreaterThanOrEqual(2);
    const visit = async (): Promise<number> => {
      let body = '';
      await until(async () => {
        body = await fetch(`http://127.0.0.1:${webPort}/`, { signal: AbortSignal.timeout(3000) }).then((r) => r.text(), () => '');
        return /I have been seen \d+ times/.test(body);
      }, 60_000, `127.0.0.1:${webPort} answers`);
      return Number(/I have been seen (\d+) times/.exec(body)![1]);
    };
    const first = await visit();
    for (let i = 1; i <= 5; i++) expect(await visit()).toBe(first + i);
    ok(await skiff(['compose', '-f', file, 'down', '-v']), 'compose down -v');
    await until(() => api!.get({ kind: 'Namespace', name: project }).then(() => false, () => true), 60_000, 'namespace gone');
  }, 300_000);

  it('drains n3 under load on every node\'s NodePort without losing a request', async () => {
    const svc = unwrapAs('Service', await api!.get({ kind: 'Service', namespace: 'default', name: 'spread' }));
    const port = svc.spec?.ports[0]?.nodePort ?? 0;
    const addresses = await Promise.all(NODES.map(lanAddress));
    // Bounded: at most 3 x 1,500 requests, one every 20 ms per node.
    const loads = addresses.map((a) => startLoad(`http://${a}:${port}/`, { everyMs: 20, maxRequests: 1500, lan: lan.subnet }));
    const drained = await skiff(['drain', 'n3', '--timeout', '3m']);
    // Traffic keeps flowing while the evicted pods' replacements turn ready on n1/n2.
    await until(async () => (await pods()).filter((p) => p.spec?.nodeName !== 'n3'
      && p.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True')).length === 6, 120_000, '6 ready replicas on n1 and n2');
    const results = await Promise.all(loads.map((l) => l.stop()));
    if (drained.code !== 0) throw new Error(`drain: ${drained.out}${drained.err}\n${await logs()}`);
    const failures = results.flatMap((r, i) => r.failures.map((f) => `${NODES[i]}: ${f}`));
    console.log(`drain n3 under load: ${failures.length} of ${results.reduce((n, r) => n + r.sent, 0)} requests lost`);
    expect(failures).toEqual([]);
    expect((await pods()).filter((p) => p.spec?.nodeName === 'n3')).toEqual([]);
    ok(await skiff(['uncordon', 'n3']), 'uncordon');
  }, 300_000);

  it('a crashed node (agent and containerd killed) has its pods run elsewhere; back, it keeps no orphan', async () => {
    const pidOf = async (name: string): Promise<number> => Number((await readFile(join(stateDir, 'pids', `${name}.pid`), 'utf8')).trim());
    const before = await pods();
    const onN2 = before.filter((p) => p.spec?.nodeName === 'n2').map((p) => p.metadata?.name ?? '');
    expect(onN2.length).toBeGreaterThan(0);
    const t0 = Date.now();
    // As a crashed machine: no agent, no runtime API. Its containers keep running, unseen.
    for (const name of ['node-agent-n2', 'containerd-n2']) process.kill(await pidOf(name), 'SIGKILL');
    await until(async () => {
      const now = await pods();
      const ready = now.filter((p) => p.spec?.nodeName !== 'n2' && p.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready.length === 6 && now.every((p) => !onN2.includes(p.metadata?.name ?? ''));
    }, 120_000, '6 ready replicas on n1 and n3');
    console.log(`node n2 killed -> its pods Running and Ready on n1/n3: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // Back: skiff up starts what is missing; the agent must not keep pods the cluster moved.
    ok(await skiff(['up', '--nodes', '3', '--state-dir', stateDir, '--no-example']), 'up again');
    const cri = cris.get('n2')!;
    await until(async () => {
      const bound = new Set((await pods()).filter((p) => p.spec?.nodeName === 'n2').map((p) => p.metadata?.name ?? ''));
      const { containers } = await cri.rt('listContainers', { filter: { id: '', podSandboxId: '', labelSelector: {} } });
      return containers.every((c) => c.state !== ContainerState.CONTAINER_RUNNING || bound.has(c.labels[LABEL_POD_NAME] ?? ''));
    }, 90_000, 'n2 runs no container of a pod that moved');
    // Their sandboxes stop after the containers, once n2's own starts are done (at most 10 s).
    const readyLeft = async (): Promise<unknown[]> =>
      (await cri.rt('listPodSandbox', {})).items.filter((s) => onN2.includes(s.metadata?.name ?? '') && s.state === PodSandboxState.SANDBOX_READY);
    await until(async () => (await readyLeft()).length === 0, 30_000, 'no ready sandbox of a pod that moved on n2');
    expect(await readyLeft()).toEqual([]);
  }, 300_000);

  it('skiff down --purge leaves no namespace, veth, bridge, route, nft table or process behind', async () => {
    ok(await skiff(['down', '--purge', '--state-dir', stateDir]), 'down --purge');
    expect(existsSync(stateDir)).toBe(false);
    expect((await run('ip', ['netns', 'list'])).stdout).not.toContain(prefix);
    expect((await run('ip', ['-o', 'link', 'show'])).stdout).not.toContain(prefix);
    const routes = (await run('ip', ['-4', 'route', 'show', 'proto', '157'])).stdout;
    for (const p of spread) expect(routes).not.toContain(p.status?.podIP?.split('.').slice(0, 3).join('.') ?? '');
    expect(routes).not.toContain(`${prefix}-lan`);
    expect(await skiffTables()).toEqual(tablesBefore);
    await expect(run('nft', ['list', 'table', 'ip', `${prefix}_hostlb`])).rejects.toThrow();
    const ps = (await run('ps', ['-eo', 'args'])).stdout;
    expect(ps).not.toContain(stateDir);
  }, 120_000);
});
