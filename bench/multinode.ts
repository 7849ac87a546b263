// Three nodes on one machine, the real way: `skiff up --nodes 3` (each node a network namespace
// with its own containerd and agent, host-gw routes between them), driven through the `skiff`
// CLI as a user would. Figures: time to 3 Ready nodes; pod-to-pod HTTP latency across nodes
// (and on one node, for comparison); a rolling update and a drain under load on every node's
// NodePort (requests lost, latency, pod Ready -> first request served through EVERY node's
// proxy); a crashed node's pods running and Ready elsewhere. Traffic only goes to this run's
// own namespaces (its LAN and pod ranges).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { unwrapAs } from '../proto/api/kinds.js';
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import { Api } from '../cli/client.js';
import { ADMIN_USER, parseTokenUsers } from '../cli/up/credentials.js';
import type { Lan } from '../cli/up/lan.js';
import type { ClusterPorts } from '../cli/up/ports.js';
import { missingPackages } from '../cli/up/up.js';
import { CriClient } from '../node-agent/runtime/cri/client.js';
import { LABEL_POD_NAME } from '../node-agent/runtime/labels.js';
import { startLoad, type LoadResult } from '../test/helpers/load.js';
import type { CliRun } from '../test/helpers/cli-run.js';
import { skiffRunner, spreadManifest } from '../test/helpers/multinode.js';
import { netnsUnavailable } from '../test/helpers/netns.js';
import { builtProgram, sleep } from './cluster.js';
import type { ScenarioOptions, ScenarioResult } from './scenario.js';
import { round1, summarize, type Summary } from './stats.js';

const run = promisify(execFile);
const CLI = builtProgram('cli/main.js');
const NODES = ['n1', 'n2', 'n3'];
const POLL_MS = 50;
const LATENCY_REQUESTS = 100;
const LOAD_EVERY_MS = 20;

const isReady = (p: Pod): boolean => p.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

// Runs inside a pod's network namespace (nsenter -n) as a plain Node program: N sequential
// GETs, each on a fresh connection as curl would, and prints the latencies in ms as JSON.
const LATENCY_CLIENT = `
const http = require('node:http');
const [url, n] = [process.argv[1], Number(process.argv[2])];
const one = () => new Promise((resolve, reject) => {
  const t = process.hrtime.bigint();
  const req = http.get(url, { agent: false, timeout: 5000 }, (res) => {
    res.resume();
    res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - t) / 1e6) : reject(new Error('status ' + res.statusCode))));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', reject);
});
(async () => { const out = []; for (let i = 0; i < n; i++) out.push(await one()); console.log(JSON.stringify(out)); })()
  .catch((e) => { console.error(String(e)); process.exit(1); });
`;

interface Bed {
  api: Api;
  registry: string;
  cris: Map<string, CriClient>;
}

async function must(r: Promise<CliRun>, what: string): Promise<string> {
  const x = await r;
  if (x.code !== 0) throw new Error(`multinode: ${what} exited ${x.code}: ${x.out}${x.err}`);
  return x.out;
}

/** The pod's network namespace, as a process id to nsenter: its sandbox's pid from CRI. */
async function sandboxPid(cri: CriClient, pod: string): Promise<number> {
  const { items } = await cri.rt('listPodSandbox', { filter: { id: '', labelSelector: { [LABEL_POD_NAME]: pod } } });
  const id = items[0]?.id;
  if (!id) throw new Error(`multinode: no sandbox of pod ${pod}`);
  const { info } = await cri.rt('podSandboxStatus', { podSandboxId: id, verbose: true });
  const pid = (JSON.parse(info.info ?? '{}') as { pid?: number }).pid;
  if (!pid) throw new Error(`multinode: containerd reported no pid for the sandbox of ${pod}`);
  return pid;
}

async function latencyFrom(pid: number, url: string): Promise<Summary> {
  const { stdout } = await run('nsenter', ['-t', String(pid), '-n', process.execPath, '-e', LATENCY_CLIENT, url, String(LATENCY_REQUESTS)], { timeout: 120_000 });
  return summarize(JSON.parse(stdout) as number[]);
}

/** Load on every node's NodePort at once: one bounded generator per node. */
function loadEveryNode(addresses: string[], port: number, lan: string, maxMs: number): { stop(): Promise<LoadResult[]> } {
  const loads = addresses.map((a) => startLoad(`http://${a}:${port}/`, { everyMs: LOAD_EVERY_MS, maxRequests: Math.ceil(maxMs / LOAD_EVERY_MS), lan }));
  return { stop: () => Promise.all(loads.map((l) => l.stop())) };
}

function lost(results: LoadResult[]): { sent: number; lost: number; failures: string[]; latencyMs: Summary } {
  return {
    sent: results.reduce((n, r) => n + r.sent, 0),
    lost: results.reduce((n, r) => n + r.failures.length, 0),
    failures: results.flatMap((r, i) => r.failures.map((f) => `${NODES[i]}: ${f}`)).slice(0, 20),
    latencyMs: summarize(results.flatMap((r) => r.latenciesMs)),
  };
}

export async function multinode(o: ScenarioOptions): Promise<ScenarioResult> {
  const skip = (reason: string): ScenarioResult => ({ json: { scenario: 'multinode', size: o.size, skipped: true, reason }, summary: `multinode: skipped: ${reason}`, series: [] });
  const why = netnsUnavailable() ?? ((await missingPackages(process.env)).length ? `missing Debian packages: ${(await missingPackages(process.env)).join(' ')}` : undefined);
  if (why) return skip(why);
  if (!existsSync(CLI)) return skip(`${CLI} is not built (npm run build)`);
  const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-nodes-'));
  const prefix = `sb${randomBytes(3).toString('hex')}`;
  const stateDir = join(dir, 'cluster');
  const skiff = skiffRunner(CLI, () => dir, prefix);
  const end = Date.now() + o.timeoutMs;
  const waitFor = async (cond: () => Promise<boolean>, what: string): Promise<void> => {
    while (!(await cond())) {
      if (Date.now() > end) throw new Error(`multinode: ${what} not reached in ${o.timeoutMs} ms`);
      await sleep(POLL_MS);
    }
  };
  let bed: Bed | undefined;
  try {
    const t0 = Date.now();
    await must(skiff(['up', '--nodes', '3', '--state-dir', stateDir, '--no-example']), 'skiff up --nodes 3');
    const upMs = Date.now() - t0;
    const lan = JSON.parse(await readFile(join(stateDir, 'lan.json'), 'utf8')) as Lan;
    const ports = JSON.parse(await readFile(join(stateDir, 'ports.json'), 'utf8')) as ClusterPorts;
    const token = parseTokenUsers(await readFile(join(stateDir, 'token'), 'utf8')).get(ADMIN_USER) ?? '';
    bed = {
      api: new Api({ server: `${lan.hostAddress}:${ports.api}`, token, tls: { ca: await readFile(join(stateDir, 'pki', 'ca.crt'), 'utf8') }, timeoutMs: 5000 }),
      registry: `${lan.hostAddress}:${ports.registry}`,
      cris: new Map(NODES.map((n) => [n, new CriClient(join(stateDir, 'nodes', n, 'containerd', 'containerd.sock'))])),
    };
    const { api } = bed;
    const replicas = Math.max(o.pods, 6);
    const file = join(dir, 'spread.yaml');
    await writeFile(file, spreadManifest(bed.registry, replicas));
    await must(skiff(['apply', '-f', file]), 'apply');
    await must(skiff(['rollout', 'status', 'deploy/spread', '--timeout', '5m']), 'rollout status');
    const pods = async (): Promise<Pod[]> => (await api.list({ kind: 'Pod', namespace: 'default', labelSelector: 'app=spread' })).items
      .map((r) => unwrapAs('Pod', r));
    const live = async (): Promise<Pod[]> => (await pods()).filter((p) => !p.metadata?.deletionTimestamp);
    const addressOf = new Map<string, string>();
    for (const n of NODES) {
      const node = unwrapAs('Node', await api.get({ kind: 'Node', name: n }));
      addressOf.set(n, node.status?.addresses.find((a) => a.type === 'InternalIP')?.address ?? '');
    }
    const addresses = NODES.map((n) => addressOf.get(n) ?? '');

    // Pod-to-pod: a client in a pod of n1 (its network namespace) to a pod of n3 and of n1.
    const spread = await live();
    const onNode = (n: string): Pod[] => spread.filter((p) => p.spec?.nodeName === n);
    const [a, sameNode] = onNode('n1');
    const [b] = onNode('n3');
    if (!a || !b) throw new Error('multinode: the Deployment did not spread over n1 and n3');
    const pid = await sandboxPid(bed.cris.get('n1')!, a.metadata?.name ?? '');
    const crossNode = await latencyFrom(pid, `http://${b.status?.podIP}:8080/`);
    const local = sameNode ? await latencyFrom(pid, `http://${sameNode.status?.podIP}:8080/`) : undefined;

    // A rolling update under load on all three NodePorts.
    const svc = unwrapAs('Service', await api.get({ kind: 'Service', namespace: 'default', name: 'spread' }));
    const nodePort = svc.spec?.ports[0]?.nodePort ?? 0;
    const first = new Set(spread.map((p) => p.metadata?.name ?? ''));
    let load = loadEveryNode(addresses, nodePort, lan.subnet, o.timeoutMs);
    const t1 = Date.now();
    await must(skiff(['set', 'image', 'deploy/spread', `hello=${bed.registry}/skiff/hello:2`]), 'set image');
    const readyAt = new Map<string, number>();
    await waitFor(async () => {
      const all = await pods();
      for (const p of all) if (!first.has(p.metadata?.name ?? '') && isReady(p) && !readyAt.has(p.metadata?.name ?? '')) readyAt.set(p.metadata?.name ?? '', Date.now());
      return readyAt.size === replicas && all.every((p) => !first.has(p.metadata?.name ?? ''));
    }, 'the rollout to replace every pod');
    const rolloutMs = Date.now() - t1;
    await sleep(3000);
    const rolled = await load.stop();
    // Ready -> served through every node: for each new pod, the latest of its first answers
    // over the three NodePorts (each node's proxy had to pick it up).
    const readyToEveryNode: number[] = [];
    for (const [name, at] of readyAt) {
      const firsts = rolled.map((r) => r.servedBy.find((s) => s.pod === name)?.at);
      if (firsts.every((x): x is number => x !== undefined)) readyToEveryNode.push(Math.max(0, Math.max(...firsts) - at));
    }

    // A drain of n3 under the same load.
    load = loadEveryNode(addresses, nodePort, lan.subnet, o.timeoutMs);
    const t2 = Date.now();
    await must(skiff(['drain', 'n3', '--timeout', '5m']), 'drain n3');
    const drainMs = Date.now() - t2;
    await waitFor(async () => (await live()).filter((p) => p.spec?.nodeName !== 'n3' && isReady(p)).length === replicas, 'every replica ready off n3');
    await sleep(1000);
    const drained = await load.stop();
    await must(skiff(['uncordon', 'n3']), 'uncordon n3');

    // A crashed machine: n2's agent and containerd killed.
    const onN2 = (await live()).filter((p) => p.spec?.nodeName === 'n2').map((p) => p.metadata?.name ?? '');
    const pidOf = async (name: string): Promise<number> => Number((await readFile(join(stateDir, 'pids', `${name}.pid`), 'utf8')).trim());
    const t3 = Date.now();
    for (const name of ['node-agent-n2', 'containerd-n2']) process.kill(await pidOf(name), 'SIGKILL');
    await waitFor(async () => {
      const now = await live();
      return now.filter((p) => p.spec?.nodeName !== 'n2' && isReady(p)).length === replicas && now.every((p) => !onN2.includes(p.metadata?.name ?? ''));
    }, 'the crashed node\'s pods ready elsewhere');
    const nodeLostMs = Date.now() - t3;

    const json = {
      scenario: 'multinode', size: o.size, skipped: false, nodes: 3, replicas,
      upToThreeReadyNodesMs: upMs,
      podToPodLatencyMs: { crossNode, sameNode: local, requests: LATENCY_REQUESTS, note: 'HTTP GET on a fresh connection from a pod on n1 (its network namespace) to the hello server of a pod on n3 / on n1' },
      rollingUpdate: { durationMs: rolloutMs, ...lost(rolled), readyToServedOnEveryNodeMs: { ...summarize(readyToEveryNode), pods: readyToEveryNode.length, newPods: readyAt.size } },
      drain: { node: 'n3', durationMs: drainMs, ...lost(drained) },
      nodeCrash: { node: 'n2', podsMoved: onN2.length, killedToReadyElsewhereMs: nodeLostMs },
      note: `load: GET / every ${LOAD_EVERY_MS} ms on each node's NodePort (LAN address), a fresh connection each; Ready as first seen by a ${POLL_MS} ms API poll; served-on-every-node includes the wait for the random endpoint choice to pick the pod`,
    };
    const s = (x: Summary): string => `p50 ${x.p50} / p99 ${x.p99} ms`;
    return {
      json,
      summary: [
        `multinode: skiff up --nodes 3 -> 3 Ready nodes in ${round1(upMs / 1000)} s`,
        `  pod-to-pod HTTP, n1 -> n3: ${s(crossNode)}${local ? `; n1 -> n1: ${s(local)}` : ''} (${LATENCY_REQUESTS} requests)`,
        `  rolling update of ${replicas} under load on 3 NodePorts: ${json.rollingUpdate.lost} of ${json.rollingUpdate.sent} requests lost, latency ${s(json.rollingUpdate.latencyMs)}, pod Ready -> served through every node ${s(json.rollingUpdate.readyToServedOnEveryNodeMs)} (${readyToEveryNode.length}/${readyAt.size} pods)`,
        `  drain n3 under load: ${json.drain.lost} of ${json.drain.sent} requests lost (drain ${round1(drainMs / 1000)} s)`,
        `  node n2 crashed -> its ${onN2.length} pods ready on n1/n3 in ${round1(nodeLostMs / 1000)} s`,
      ].join('\n'),
      series: [],
    };
  } finally {
    bed?.api.close();
    for (const c of bed?.cris.values() ?? []) c.close();
    if (existsSync(stateDir)) await skiff(['down', '--purge', '--state-dir', stateDir]);
    for (const n of NODES) await run('ip', ['netns', 'del', `${prefix}-${n}`]).catch(() => undefined);
    await run('ip', ['link', 'del', `${prefix}-lan`]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
