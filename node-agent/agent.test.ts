// The node agent with the fake runtime against a real control plane (the API server in-process
// over a real etcd), as a node would run.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { isApiError } from '../proto/api/errors.js';
import { fromManifest, type JsonObject } from '../proto/api/manifest.js';
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import { testStore, type TestStore } from '../test/helpers/etcd-client.js';
import { TcpProxy } from '../test/helpers/tcp-proxy.js';
import { until } from '../test/helpers/wait.js';
import { startApiServer, type RunningApiServer } from '../control-plane/api/server.js';
import { ENFORCE_LABEL } from '../control-plane/api/validation/pod-security.js';
import { SharedInformers } from '../control-plane/informers.js';
import { NodeAgentClient } from '../proto/gen/skiff/v1/agent.js';
import type { LogChunk } from '../proto/gen/skiff/v1/api.js';
import { connect, createServer as createTcpServer, type AddressInfo as TcpAddress } from 'node:net';
import { PassThrough } from 'node:stream';
import { portForwardCommand } from '../cli/commands/port-forward.js';
import { makeCtx } from '../cli/context.js';
import { runCli } from '../cli/program.js';
import { NodeAgent, type NodeAgentOptions } from './agent.js';
import { AgentApi } from './api-client.js';
import { ManualClock, type Clock } from '../proto/api/clock.js';
import { FakeRuntime } from './runtime/fake/driver.js';
import { LABEL_POD_UID } from './runtime/labels.js';
import { FakeHost } from './runtime/fake/host.js';
import { TEST_AGENT_SERVING, TEST_CA, TEST_CLIENT_TLS, TEST_KUBELET_CLIENT, TEST_KUBELET_TLS, TEST_SERVING, testClientCertificate, testTlsFiles } from '../test/helpers/tls.js';
import { httpsFetch } from '../test/helpers/https.js';
import { createCa, issueCertificate, KUBELET_CLIENT_USER, MASTERS_GROUP, NODES_GROUP } from '../proto/api/pki/index.js';
import { grpcCredentials } from '../proto/api/tls-client.js';

const log = pino({ level: process.env.SKIFF_TEST_LOG ?? 'silent' });

interface Cluster {
  ts: TestStore;
  informers: SharedInformers;
  server: RunningApiServer;
  address: string;
  client: AgentApi;
  stop(): Promise<void>;
}

async function startCluster(): Promise<Cluster> {
  const ts = testStore();
  const informers = new SharedInformers(ts.store);
  const server = await startApiServer({ tls: TEST_SERVING, kubelet: TEST_KUBELET_TLS, store: ts.store, informers, listen: '127.0.0.1:0', log });
  const address = `127.0.0.1:${server.port}`;
  const client = new AgentApi({ tls: TEST_CLIENT_TLS, address });
  // Some tests run hostNetwork pods, which "default" (baseline unless labelled) refuses.
  const ns = await ts.store.get('Namespace', '', 'default');
  ns.metadata!.labels[ENFORCE_LABEL] = 'privileged';
  await ts.store.update('Namespace', ns);
  return {
    ts, informers, server, address, client,
    async stop() {
      client.close();
      await server.stop();
      await informers.stop();
      await ts.close();
    },
  };
}

function pod(name: string, nodeName: string, containers: JsonObject[], extra: JsonObject = {}): Pod {
  return fromManifest({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName, terminationGracePeriodSeconds: 1, containers, ...extra },
  }).object as Pod;
}

const METRICS_TOKEN = 'agent-metrics-token';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function setup(opts: { clock?: Clock; address?: string; backoff?: NodeAgentOptions['backoff']; host?: FakeHost; stateDir?: string; metrics?: boolean } = {}) {
  const cluster = await startCluster();
  cleanups.push(() => cluster.stop());
  const host = opts.host ?? new FakeHost();
  cleanups.push(() => Promise.resolve(host.shutdown()));
  const stateDir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), 'skiff-agent-')));
  cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
  const mk = (address = opts.address ?? cluster.address, extra: Partial<NodeAgentOptions> = {}): NodeAgent => {
    const agent = new NodeAgent({ tls: TEST_CLIENT_TLS, serving: TEST_AGENT_SERVING,
      ...extra,
      nodeName: 'n1', controlPlane: address, runtime: new FakeRuntime({ host, nodeName: 'n1' }), stateDir,
      listen: extra.listen ?? '127.0.0.1:0', clock: opts.clock, log, heartbeatMs: 200, backoff: opts.backoff,
      nodeIP: 'nodeIP' in extra ? extra.nodeIP : '192.0.2.10',
      podCIDR: '10.244.0.0/24', apiTimeoutMs: 2000, metricsListen: extra.metricsListen ?? (opts.metrics ? '127.0.0.1:0' : undefined),
      // The control plane here checks no tokens; the agent's own token guards its /metrics.
      token: 'token' in extra ? extra.token : opts.metrics ? METRICS_TOKEN : undefined,
      nodeStatusEvery: extra.nodeStatusEvery,
    });
    cleanups.push(() => agent.stop());
    return agent;
  };
  return { cluster, host, stateDir, mk };
}

async function getPod(c: Cluster, name: string): Promise<Pod | undefined> {
  try {
    return await c.client.get('Pod', 'default', name);
  } catch (e) {
    if (isApiError(e, 'NotFound')) return undefined;
    throw e;
  }
}

/** Advances a manual clock a step at a time until cond holds. */
async function drive(clock: ManualClock, cond: () => Promise<boolean> | boolean, stepMs = 1000, what = 'condition'): Promise<void> {
  await until(async () => {
    if (await cond()) return true;
    clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, 20));
    return false;
  }, 30_000, what);
}

describe('node agent with the fake runtime', () => {
  it('reports Ready=False with the reason while the runtime does not answer, DiskPressure from statfs, and Ready again when it is back', async () => {
    const { cluster, host, mk } = await setup();
    const agent = mk(undefined, { diskThreshold: { percent: 0 } });
    await agent.start();
    const conditions = async () => (await cluster.client.get('Node', '', 'n1')).status?.conditions ?? [];
    const ready = async () => (await conditions()).find((c) => c.type === 'Ready');
    expect(await ready()).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect((await conditions()).find((c) => c.type === 'DiskPressure')).toMatchObject({ status: 'False', reason: 'KubeletHasNoDiskPressure' });
    host.health.answering = false;
    await until(async () => (await ready())?.status === 'False', 10_000, 'Ready=False');
    expect(await ready()).toMatchObject({ reason: 'KubeletNotReady' });
    expect((await ready())?.message).toMatch(/container runtime is down/);
    host.health.answering = true;
    await until(async () => (await ready())?.status === 'True', 10_000, 'Ready again');
  });

  it('registers the node and lease, runs a bound pod to Running/Ready with a pod IP', async () => {
    const { cluster, mk } = await setup();
    const agent = mk();
    await agent.start();
    const node = await cluster.client.get('Node', '', 'n1');
    expect(node.metadata?.labels).toMatchObject({ 'kubernetes.io/hostname': 'n1', 'kubernetes.io/os': 'linux' });
    expect(node.status?.capacity.pods).toBe('110');
    expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(agent.port);
    expect(node.status?.addresses).toContainEqual({ type: 'InternalIP', address: '192.0.2.10' });
    expect(node.status?.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.spec?.podCIDR).toBe('10.244.0.0/24');
    await until(async () => {
      const l = await cluster.client.get('Lease', 'kube-node-lease', 'n1').catch(() => undefined);
      return !!l?.spec?.renewTime;
    }, 10_000, 'lease');
    const lease = await cluster.client.get('Lease', 'kube-node-lease', 'n1');
    expect(lease.spec).toMatchObject({ holderIdentity: 'n1', leaseDurationSeconds: 40 });
    await until(async () => (await cluster.client.get('Lease', 'kube-node-lease', 'n1')).spec?.renewTime !== lease.spec?.renewTime, 10_000, 'lease renewed');

    await cluster.client.create('Pod', pod('web', 'n1', [{ name: 'app', image: 'skiff/hello:1' }]));
    await until(async () => (await getPod(cluster, 'web'))?.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false, 15_000, 'pod ready');
    const p = (await getPod(cluster, 'web'))!;
    expect(p.status?.phase).toBe('Running');
    expect(p.status?.podIP).toMatch(/^10\.244\.0\.\d+$/);
    expect(p.status?.hostIP).toBe('192.0.2.10');
    expect(p.status?.startTime).not.toBe('');
    expect(p.status?.containerStatuses[0]).toMatchObject({ name: 'app', ready: true, started: true, restartCount: 0 });
    expect(p.status?.containerStatuses[0]?.state?.running?.startedAt).toBeTruthy();
    expect(p.status?.containerStatuses[0]?.containerID).toMatch(/^fake:\/\//);
    const st = await agent.status();
    expect(st).toMatchObject({ nodeName: 'n1', runtime: 'fake', pods: 1, containers: 1 });
  });

  it('restarts a container whose liveness probe fails (restartCount 1)', async () => {
    let healthy = false;
    const probeServer: Server = createServer((_req, res) => {
      res.statusCode = healthy ? 200 : 500;
      res.end();
    });
    await new Promise<void>((r) => probeServer.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => probeServer.close(() => r())));
    const port = (probeServer.address() as AddressInfo).port;
    const clock = new ManualClock(Date.now());
    const { cluster, mk } = await setup({ clock });
    const agent = mk();
    const kills: string[] = [];
    agent.events.on('probeKill', (e) => kills.push(e.probe));
    await agent.start();
    await cluster.client.create('Pod', pod('live', 'n1', [{
      name: 'app', image: 'skiff/hello:1',
      livenessProbe: { httpGet: { host: '127.0.0.1', port, path: '/healthz' }, periodSeconds: 1, timeoutSeconds: 5, failureThreshold: 2 },
    }]));
    await drive(clock, () => kills.length > 0, 500, 'liveness kill');
    healthy = true;
    expect(kills).toEqual(['liveness']);
    await drive(clock, async () => {
      const cs = (await getPod(cluster, 'live'))?.status?.containerStatuses[0];
      return cs?.restartCount === 1 && !!cs.state?.running;
    }, 1000, 'restarted once');
    const cs = (await getPod(cluster, 'live'))!.status!.containerStatuses[0]!;
    expect(cs.lastState?.terminated).toBeDefined();
    // Healthy now: more time passes without another restart.
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      await new Promise((r) => setTimeout(r, 20));
    }
    await agent.settled();
    expect((await getPod(cluster, 'live'))!.status!.containerStatuses[0]!.restartCount).toBe(1);
    expect(kills).toEqual(['liveness']);
  });

  it('gates readiness on the startup probe; readiness only flips Ready', async () => {
    const flags = { started: false, ready: false };
    const hits: string[] = [];
    const probeServer: Server = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.statusCode = (req.url === '/started' ? flags.started : flags.ready) ? 200 : 503;
      res.end();
    });
    await new Promise<void>((r) => probeServer.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => probeServer.close(() => r())));
    const port = (probeServer.address() as AddressInfo).port;
    const clock = new ManualClock(Date.now());
    const { cluster, mk } = await setup({ clock });
    const agent = mk();
    await agent.start();
    const probe = (path: string, extra: JsonObject = {}): JsonObject => ({
      httpGet: { host: '127.0.0.1', port, path }, periodSeconds: 1, timeoutSeconds: 5, ...extra,
    });
    await cluster.client.create('Pod', pod('gated', 'n1', [{
      name: 'app', image: 'skiff/hello:1',
      startupProbe: probe('/started', { failureThreshold: 1000 }),
      readinessProbe: probe('/ready', { failureThreshold: 1 }),
    }]));
    const status = async () => (await getPod(cluster, 'gated'))?.status;
    await drive(clock, () => hits.filter((h) => h === '/started').length >= 3, 1000, 'startup probing');
    expect(hits.includes('/ready')).toBe(false);
    let cs = (await status())!.containerStatuses[0]!;
    expect(cs).toMatchObject({ ready: false, started: false });
    expect(cs.state?.running).toBeDefined();
    flags.started = true;
    await drive(clock, async () => (await status())?.containerStatuses[0]?.started === true, 1000, 'started');
    await drive(clock, () => hits.includes('/ready'), 1000, 'readiness probing');
    expect((await status())!.conditions.find((c) => c.type === 'Ready')?.status).toBe('False');
    flags.ready = true;
    await drive(clock, async () => (await status())?.conditions.find((c) => c.type === 'Ready')?.status === 'True', 1000, 'ready');
    flags.ready = false;
    await drive(clock, async () => (await status())?.conditions.find((c) => c.type === 'Ready')?.status === 'False', 1000, 'unready again');
    cs = (await status())!.containerStatuses[0]!;
    expect(cs).toMatchObject({ ready: false, started: true, restartCount: 0 });
    expect((await status())!.phase).toBe('Running');
  });

  it('restarts a crashed container at once, then backs off 10 s doubling to 300 s, with CrashLoopBackOff status', async () => {
    const clock = new ManualClock(Date.now());
    const { cluster, mk } = await setup({ clock });
    const agent = mk();
    const delays: number[] = [];
    agent.events.on('backoff', (e) => delays.push(e.delayMs));
    await agent.start();
    await cluster.client.create('Pod', pod('crash', 'n1', [{ name: 'app', image: 'skiff/crash-0-1:1' }]));
    await until(() => delays.length === 1, 10_000, 'first back-off');
    await until(async () => {
      const cs = (await getPod(cluster, 'crash'))?.status?.containerStatuses[0];
      return cs?.state?.waiting?.reason === 'CrashLoopBackOff';
    }, 10_000, 'CrashLoopBackOff status');
    const first = (await getPod(cluster, 'crash'))!.status!.containerStatuses[0]!;
    expect(first.state?.waiting?.message).toMatch(/^back-off 10s restarting failed container=app pod=crash_default\(/);
    expect(first.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    // The first crash was restarted at once; the second is the one backing off.
    expect(first.restartCount).toBe(1);
    for (let n = 1; n < 7; n++) {
      // Just short of the delay nothing restarts; at the delay it does and crashes again.
      clock.advance(delays[n - 1]! - 1);
      await new Promise((r) => setTimeout(r, 30));
      expect(delays).toHaveLength(n);
      clock.advance(1);
      await until(() => delays.length === n + 1, 10_000, `back-off ${n + 1}`);
    }
    expect(delays.map((d) => d / 1000)).toEqual([10, 20, 40, 80, 160, 300, 300]);
    await until(async () => {
      const cs = (await getPod(cluster, 'crash'))?.status?.containerStatuses[0];
      return cs?.restartCount === 7 && cs.state?.waiting?.message.startsWith('back-off 5m0s') === true;
    }, 10_000, 'status after seven restarts');
    expect((await getPod(cluster, 'crash'))!.status!.phase).toBe('Running');
  });

  it('restarts and retries pulls on time when timers fire early (Node starts them from the loop time)', async () => {
    // Node measures a timer from the event loop's cached time, so under load it can fire before
    // Date.now() reaches the due time. A pass that finds the restart not due must wait again.
    const manual = new ManualClock(Date.now());
    const early: Clock = { now: () => manual.now(), setTimeout: (fn, ms) => manual.setTimeout(fn, ms > 1 ? ms - 1 : ms) };
    const { cluster, mk } = await setup({ clock: early });
    const agent = mk();
    const delays: number[] = [];
    agent.events.on('backoff', (e) => e.pod === 'default/crash' && delays.push(e.delayMs));
    await agent.start();
    await cluster.client.create('Pod', pod('crash', 'n1', [{ name: 'app', image: 'skiff/crash-0-1:1' }]));
    await cluster.client.create('Pod', pod('nopull', 'n1', [{ name: 'app', image: 'skiff/does-not-exist:1' }]));
    await until(() => delays.length === 1, 10_000, 'first back-off');
    const pullReason = async (): Promise<string> => (await getPod(cluster, 'nopull'))?.status?.containerStatuses[0]?.state?.waiting?.reason ?? '';
    await until(async () => (await pullReason()) === 'ErrImagePull', 10_000, 'ErrImagePull');
    // Both back-offs (10 s) started at this clock time; their timers fire 1 ms early.
    manual.advance(delays[0]! - 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(delays).toHaveLength(1);
    manual.advance(1);
    await until(() => delays.length === 2, 10_000, 'restart after the first back-off');
    await until(async () => (await pullReason()) === 'ImagePullBackOff', 10_000, 'pull retried after its back-off');
  });

  it('tears a deleted pod down and confirms the deletion', async () => {
    const { cluster, host, stateDir, mk } = await setup();
    const agent = mk();
    await agent.start();
    await cluster.client.create('Pod', pod('gone', 'n1', [{ name: 'app', image: 'skiff/hello:1', volumeMounts: [{ name: 'scratch', mountPath: '/s' }] }], {
      volumes: [{ name: 'scratch', emptyDir: {} }],
    }));
    await until(async () => (await getPod(cluster, 'gone'))?.status?.phase === 'Running', 15_000, 'running');
    const uid = (await getPod(cluster, 'gone'))!.metadata!.uid;
    await stat(join(stateDir, 'pods', uid, 'volumes', 'scratch'));
    expect(host.sandboxes.size).toBe(1);
    await cluster.client.delete({ kind: 'Pod', namespace: 'default', name: 'gone' });
    await until(async () => (await getPod(cluster, 'gone')) === undefined, 15_000, 'pod object removed');
    expect([...host.sandboxes.values()].filter((s) => s.cfg.podUid === uid)).toEqual([]);
    await expect(stat(join(stateDir, 'pods', uid))).rejects.toThrow();
    expect(agent.podKeys()).toEqual([]);

    // Force-deleted (gone from the API at once) while running: torn down all the same.
    await cluster.client.create('Pod', pod('forced', 'n1', [{ name: 'app', image: 'skiff/hello:1' }]));
    await until(async () => (await getPod(cluster, 'forced'))?.status?.phase === 'Running', 15_000, 'forced running');
    await cluster.client.delete({ kind: 'Pod', namespace: 'default', name: 'forced', gracePeriodSeconds: 0 });
    await until(() => host.sandboxes.size === 0 && agent.podKeys().length === 0, 15_000, 'force-deleted pod torn down');
    expect([...host.containers.values()].filter((c) => c.state === 'running')).toEqual([]);
  });

  it('runs preStop hooks (sleep, httpGet, exec) before stopping, within the grace period', async () => {
    const clock = new ManualClock(Date.now());
    const { cluster, host, mk } = await setup({ clock });
    const calls: { path: string; appRunning: boolean }[] = [];
    const hookServer: Server = createServer((req, res) => {
      const app = [...host.containers.values()].find((c) => c.cfg.name === 'web');
      calls.push({ path: req.url ?? '', appRunning: app?.state === 'running' });
      res.statusCode = req.url === '/fail' ? 500 : 200;
      res.end();
    });
    await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => hookServer.close(() => r())));
    const port = (hookServer.address() as AddressInfo).port;
    const agent = mk();
    const hooks: { container: string; ok: boolean }[] = [];
    agent.events.on('preStop', (e) => hooks.push({ container: e.container, ok: e.ok }));
    await agent.start();
    await cluster.client.create('Pod', pod('hooked', 'n1', [
      { name: 'sleepy', image: 'skiff/hello:1', lifecycle: { preStop: { sleep: { seconds: 5 } } } },
      { name: 'web', image: 'skiff/hello:1', lifecycle: { preStop: { httpGet: { host: '127.0.0.1', port, path: '/drain' } } } },
      { name: 'cmd', image: 'skiff/hello:1', lifecycle: { preStop: { exec: { command: ['cat', '/no/such/file'] } } } },
    ], { terminationGracePeriodSeconds: 30 }));
    await until(async () => (await getPod(cluster, 'hooked'))?.status?.phase === 'Running', 15_000, 'running');
    const state = (name: string): string | undefined => [...host.containers.values()].find((c) => c.cfg.name === name)?.state;
    await cluster.client.delete({ kind: 'Pod', namespace: 'default', name: 'hooked' });
    // The httpGet hook reached the container while it still ran; the failing exec hook is
    // reported and its container stopped all the same.
    await until(() => hooks.length === 2, 10_000, 'httpGet and exec hooks');
    expect(calls).toEqual([{ path: '/drain', appRunning: true }]);
    expect(hooks.sort((a, b) => (a.container < b.container ? -1 : 1))).toEqual([{ container: 'cmd', ok: false }, { container: 'web', ok: true }]);
    // The sleep hook holds its container until 5 s have passed on the agent's clock.
    await new Promise((r) => setTimeout(r, 100));
    expect(state('sleepy')).toBe('running');
    clock.advance(4_900);
    await new Promise((r) => setTimeout(r, 100));
    expect(state('sleepy')).toBe('running');
    clock.advance(100);
    await until(() => hooks.length === 3 && state('sleepy') !== 'running', 10_000, 'sleep hook done, container stopped');
  });

  it('a new agent on the same state re-attaches without restarting containers', async () => {
    const { cluster, host, mk } = await setup();
    const a1 = mk();
    await a1.start();
    await cluster.client.create('Pod', pod('keep', 'n1', [{ name: 'app', image: 'skiff/hello:1' }, { name: 'side', image: 'skiff/hello:2' }]));
    await until(async () => (await getPod(cluster, 'keep'))?.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false, 15_000, 'ready');
    const before = (await getPod(cluster, 'keep'))!.status!.containerStatuses.map((c) => c.containerID).sort();
    const sandboxesBefore = [...host.sandboxes.keys()];
    await a1.stop();
    // A pod bound while no agent ran, and one deleted meanwhile (force) that must be torn down.
    const a2 = mk();
    const started: string[] = [];
    a2.events.on('containerStarted', (e) => started.push(`${e.pod}/${e.container}`));
    await a2.start();
    await a2.beat();
    await until(async () => {
      const p = await getPod(cluster, 'keep');
      return p?.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    }, 15_000, 'ready after re-attach');
    await a2.settled();
    const after = (await getPod(cluster, 'keep'))!.status!.containerStatuses;
    expect(after.map((c) => c.containerID).sort()).toEqual(before);
    expect(after.map((c) => c.restartCount)).toEqual([0, 0]);
    expect(started).toEqual([]);
    expect([...host.sandboxes.keys()]).toEqual(sandboxesBefore);
    expect([...host.containers.values()].filter((c) => c.state === 'running')).toHaveLength(2);
  });

  it('tears down, on start, a pod that was force-deleted while the agent was away', async () => {
    const { cluster, host, mk } = await setup();
    const a1 = mk();
    await a1.start();
    await cluster.client.create('Pod', pod('orphan', 'n1', [{ name: 'app', image: 'skiff/hello:1' }]));
    await until(async () => (await getPod(cluster, 'orphan'))?.status?.phase === 'Running', 15_000, 'running');
    await a1.stop();
    await cluster.client.delete({ kind: 'Pod', namespace: 'default', name: 'orphan', gracePeriodSeconds: 0 });
    const a2 = mk();
    await a2.start();
    await until(() => host.sandboxes.size === 0, 15_000, 'orphan sandbox removed');
    expect([...host.containers.values()].filter((c) => c.state === 'running')).toEqual([]);
  });

  it('keeps containers running while the control plane is unreachable and resyncs status after', async () => {
    const cluster0 = await setup({ backoff: { initialMs: 200, maxMs: 400 } });
    const { cluster, host } = cluster0;
    const proxy = await new TcpProxy('127.0.0.1', cluster.server.port).start();
    cleanups.push(() => proxy.stop());
    // Node status only on registration and after an outage (not on the regular beat).
    const agent = cluster0.mk(`127.0.0.1:${proxy.port}`, { nodeStatusEvery: 1_000_000 });
    await agent.start();
    await cluster.client.create('Pod', pod('steady', 'n1', [{ name: 'app', image: 'skiff/hello:1' }, { name: 'flaky', image: 'skiff/hello:2' }]));
    await until(async () => (await getPod(cluster, 'steady'))?.status?.phase === 'Running', 15_000, 'running');
    await until(async () => ((await getPod(cluster, 'steady'))?.status?.containerStatuses.every((c) => c.ready)) ?? false, 15_000, 'ready');
    const steadyId = (await getPod(cluster, 'steady'))!.status!.containerStatuses.find((c) => c.name === 'app')!.containerID;

    const heartbeatOf = async (): Promise<string> =>
      (await cluster.client.get('Node', '', 'n1')).status?.conditions.find((c) => c.type === 'Ready')?.lastHeartbeatTime ?? '';
    const hb0 = await heartbeatOf();
    proxy.setRefusing(true);
    await until(() => !agent.controlPlaneReachable, 15_000, 'agent notices the outage');
    // A container crashes during the outage: restarted per policy without the control plane.
    const restarted = new Promise<void>((r) => agent.events.on('containerStarted', (e) => e.container === 'flaky' && r()));
    const flaky = [...host.containers.values()].find((c) => c.cfg.name === 'flaky' && c.state === 'running')!;
    (agent.opts.runtime as FakeRuntime).crash({ version: 1, runtime: 'fake', sandboxId: flaky.sandboxId, containerId: flaky.id, name: 'flaky', attempt: 0 }, 3);
    await restarted;
    // Long enough that the node's heartbeat time (whole seconds) must move once reconnected.
    await new Promise((r) => setTimeout(r, 1100));
    const app = [...host.containers.values()].find((c) => `fake://${c.id}` === steadyId)!;
    expect(app.state).toBe('running');
    expect((await getPod(cluster, 'steady'))!.status!.containerStatuses.find((c) => c.name === 'flaky')!.restartCount).toBe(0);

    proxy.setRefusing(false);
    await until(async () => {
      const cs = (await getPod(cluster, 'steady'))?.status?.containerStatuses.find((c) => c.name === 'flaky');
      return cs?.restartCount === 1 && !!cs.state?.running;
    }, 20_000, 'status resynced');
    const cs = (await getPod(cluster, 'steady'))!.status!.containerStatuses.find((c) => c.name === 'flaky')!;
    expect(cs.lastState?.terminated?.exitCode).toBe(3);
    expect(app.state).toBe('running');
    await until(() => agent.controlPlaneReachable, 15_000, 'agent reconnected');
    await until(async () => (await heartbeatOf()) > hb0, 10_000, 'node status re-posted after the outage');
  });

  it('back from a partition, stops the pods the cluster deleted or moved to another node meanwhile', async () => {
    const cluster0 = await setup();
    const { cluster, host } = cluster0;
    const proxy = await new TcpProxy('127.0.0.1', cluster.server.port).start();
    cleanups.push(() => proxy.stop());
    const agent = cluster0.mk(`127.0.0.1:${proxy.port}`);
    await agent.start();
    for (const name of ['gone', 'moved', 'kept']) await cluster.client.create('Pod', pod(name, 'n1', [{ name: 'app', image: 'skiff/hello:1' }]));
    await until(async () => (await Promise.all(['gone', 'moved', 'kept'].map((n) => getPod(cluster, n)))).every((p) => p?.status?.phase === 'Running'), 15_000, 'running');
    const uidOf = async (n: string): Promise<string> => (await getPod(cluster, n))!.metadata!.uid;
    const before = { gone: await uidOf('gone'), moved: await uidOf('moved'), kept: await uidOf('kept') };
    const runningUids = (): Set<string> => new Set([...host.containers.values()].filter((c) => c.state === 'running').map((c) => c.labels[LABEL_POD_UID]!));

    proxy.setRefusing(true);
    await until(() => !agent.controlPlaneReachable, 15_000, 'agent notices the partition');
    await cluster.client.delete({ kind: 'Pod', namespace: 'default', name: 'gone', gracePeriodSeconds: 0 });
    await cluster.client.delete({ kind: 'Pod', namespace: 'default', name: 'moved', gracePeriodSeconds: 0 });
    await cluster.client.create('Pod', pod('moved', 'n2', [{ name: 'app', image: 'skiff/hello:1' }]));
    // Cut off, the agent keeps what it runs.
    expect([...runningUids()].sort()).toEqual(Object.values(before).sort());

    proxy.setRefusing(false);
    await until(() => { const r = runningUids(); return !r.has(before.gone) && !r.has(before.moved); }, 20_000, 'deleted and moved pods stopped');
    expect([...runningUids()]).toEqual([before.kept]);
    await until(() => agent.podKeys().join() === 'default/kept', 20_000, 'workers of the deleted and moved pods gone');
  });

  it('serves logs (tail, previous attempt), metrics, host networking and config errors', async () => {
    const { cluster, mk } = await setup({ backoff: { initialMs: 100, maxMs: 200 }, metrics: true });
    const agent = mk();
    await agent.start();
    await cluster.client.create('Pod', pod('talk', 'n1', [
      { name: 'app', image: 'skiff/hello:1', command: ['sh', '-c', 'echo one; echo two; echo three; sleep infinity'] },
      { name: 'crashy', image: 'skiff/hello:1', command: ['sh', '-c', 'echo attempt; exit 2'] },
    ], { restartPolicy: 'OnFailure' }));
    await cluster.client.create('Pod', pod('nopull', 'n1', [{ name: 'app', image: 'skiff/does-not-exist:1' }]));
    await cluster.client.create('Pod', pod('hostnet', 'n1', [{ name: 'app', image: 'skiff/hello:1' }], { hostNetwork: true }));
    await cluster.client.create('Pod', pod('root', 'n1', [{
      name: 'app', image: 'skiff/hello:1', securityContext: { runAsUser: 0, runAsNonRoot: true },
    }]));
    await until(async () => ((await getPod(cluster, 'talk'))?.status?.containerStatuses.find((c) => c.name === 'crashy')?.restartCount ?? 0) >= 1, 15_000, 'crashy restarted');
    const client = new NodeAgentClient(`127.0.0.1:${agent.port}`, grpcCredentials(`127.0.0.1:${agent.port}`, TEST_KUBELET_TLS));
    cleanups.push(() => Promise.resolve(client.close()));
    const logs = (req: { container: string; tailLines?: number; previous?: boolean; pod?: string }): Promise<string> =>
      new Promise((resolve, reject) => {
        let out = '';
        const s = client.logs({ namespace: 'default', pod: req.pod ?? 'talk', container: req.container, follow: false, tailLines: req.tailLines ?? -1, previous: req.previous ?? false, timestamps: false });
        s.on('data', (c: LogChunk) => (out += Buffer.from(c.data).toString()));
        s.on('error', reject);
        s.on('end', () => resolve(out));
      });
    await until(async () => (await logs({ container: 'app' }).catch(() => '')) === 'one\ntwo\nthree\n', 10_000, 'app logs');
    expect(await logs({ container: 'app', tailLines: 2 })).toBe('two\nthree\n');
    expect(await logs({ container: 'crashy', previous: true })).toBe('attempt\n');
    await expect(logs({ container: '' })).rejects.toThrow(/has 2 containers/);
    await expect(logs({ container: 'app', pod: 'nope' })).rejects.toThrow(/not found/);

    await cluster.client.create('Pod', pod('job-ok', 'n1', [{ name: 'app', image: 'skiff/hello:1', command: ['sh', '-c', 'exit 0'] }], { restartPolicy: 'Never' }));
    await cluster.client.create('Pod', pod('job-bad', 'n1', [{ name: 'app', image: 'skiff/hello:1', command: ['sh', '-c', 'exit 3'] }], { restartPolicy: 'Never' }));
    await until(async () => (await getPod(cluster, 'job-ok'))?.status?.phase === 'Succeeded', 10_000, 'job-ok Succeeded');
    await until(async () => (await getPod(cluster, 'job-bad'))?.status?.phase === 'Failed', 10_000, 'job-bad Failed');
    expect((await getPod(cluster, 'job-bad'))!.status!.containerStatuses[0]!.state?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect((await getPod(cluster, 'job-ok'))!.status!.containerStatuses[0]).toMatchObject({ restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } });

    await until(async () => (await getPod(cluster, 'hostnet'))?.status?.phase === 'Running', 10_000, 'hostnet running');
    expect((await getPod(cluster, 'hostnet'))!.status!.podIP).toBe('192.0.2.10');
    await until(async () => (await getPod(cluster, 'root'))?.status?.containerStatuses[0]?.state?.waiting?.reason === 'CreateContainerConfigError', 10_000, 'config error');
    expect((await getPod(cluster, 'root'))!.status!.phase).toBe('Pending');
    await until(async () => (await getPod(cluster, 'nopull'))?.status?.containerStatuses[0]?.state?.waiting?.reason === 'ImagePullBackOff', 10_000, 'ImagePullBackOff');
    expect((await getPod(cluster, 'nopull'))!.status!.containerStatuses[0]!.state!.waiting!.message).toMatch(/^Back-off pulling image "skiff\/does-not-exist:1"/);

    // HTTPS with the NodeAgent serving certificate; the token or the control plane's client certificate.
    const url = `https://127.0.0.1:${agent.metricsPort}/metrics`;
    await expect(fetch(url.replace('https:', 'http:'))).rejects.toThrow();
    expect((await httpsFetch(url)).status).toBe(401);
    expect((await httpsFetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await httpsFetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
    const res = await httpsFetch(url, { cert: TEST_KUBELET_CLIENT.cert, key: TEST_KUBELET_CLIENT.key });
    expect(res.status).toBe(200);
    const text = res.text;
    expect(text).toMatch(/skiff_agent_pods\{[^}]*phase="Running"[^}]*\} 2/);
    expect(text).toMatch(/skiff_agent_runtime_call_seconds_count\{[^}]*operation="startSandbox"/);
    expect(text).toMatch(/skiff_agent_pod_start_seconds_count\{[^}]*\} [1-9]/);
  });

  it('/metrics: the control plane and cluster admins by certificate; nodes and other CAs are no one', async () => {
    const { mk } = await setup();
    // Joined with a bootstrap token: no token of its own, client certificates only.
    const agent = mk(undefined, { metricsListen: '127.0.0.1:0', token: undefined });
    await agent.start();
    const url = `https://127.0.0.1:${agent.metricsPort}/metrics`;
    const scrape = async (c?: { cert: string; key: string }): Promise<number> => (await httpsFetch(url, c ?? {})).status;
    const admin = await testClientCertificate('alice', [MASTERS_GROUP]);
    const node = await testClientCertificate('system:node:n2', [NODES_GROUP]);
    const forged = await issueCertificate(await createCa('other-ca'), { subject: { commonName: KUBELET_CLIENT_USER }, usages: ['client'] });
    expect(await scrape(TEST_KUBELET_CLIENT)).toBe(200);
    expect(await scrape(admin)).toBe(200);
    expect(await scrape(node)).toBe(401);
    expect(await scrape(forged)).toBe(401);
    expect(await scrape()).toBe(401);
    // A scraper that trusts another CA does not talk to this agent at all.
    await expect(httpsFetch(url, {}, (await createCa('not-ours')).cert)).rejects.toThrow();
    expect((await httpsFetch(url, {}, TEST_CA.cert)).text).toMatch(/client certificate/);
  });

  it('/metrics with no way to authenticate refuses to start; --metrics-insecure and a certificate-less agent', async () => {
    const { mk } = await setup();
    const none = mk(undefined, { metricsListen: '127.0.0.1:0', token: undefined, serving: undefined, listen: '' });
    await expect(none.start()).rejects.toThrow(/--metrics-listen has no way to authenticate scrapers/);
    const insecure = mk(undefined, { metricsListen: '127.0.0.1:0', metricsInsecure: true, token: undefined });
    await insecure.start();
    expect((await httpsFetch(`https://127.0.0.1:${insecure.metricsPort}/metrics`)).status).toBe(200);
    await insecure.stop();
    // No serving certificate: plain HTTP (with a warning), the token still required.
    const plain = mk(undefined, { metricsListen: '127.0.0.1:0', token: METRICS_TOKEN, serving: undefined, listen: '' });
    await plain.start();
    const url = `http://127.0.0.1:${plain.metricsPort}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
  });

  it('without --node-ip publishes the address it listens on, where the control plane proxies logs', async () => {
    const { cluster, mk } = await setup();
    const agent = mk(undefined, { nodeIP: undefined });
    await agent.start();
    const node = await cluster.client.get('Node', '', 'n1');
    expect(node.status?.addresses[0]).toEqual({ type: 'InternalIP', address: '127.0.0.1' });
    expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(agent.port);
    await cluster.client.create('Pod', pod('talk', 'n1', [{ name: 'app', image: 'skiff/hello:1', command: ['sh', '-c', 'echo hi; sleep infinity'] }]));
    const viaControlPlane = (): Promise<string> =>
      new Promise((resolve, reject) => {
        let out = '';
        const s = cluster.client.client.logs(
          { namespace: 'default', pod: 'talk', container: 'app', follow: false, tailLines: -1, previous: false, timestamps: false },
          cluster.client.metadata(),
        );
        s.on('data', (c: LogChunk) => (out += Buffer.from(c.data).toString()));
        s.on('error', reject);
        s.on('end', () => resolve(out));
      });
    await until(async () => (await viaControlPlane().catch(() => '')) === 'hi\n', 10_000, 'logs through the control plane');
    expect((await getPod(cluster, 'talk'))?.status?.hostIP).toBe('127.0.0.1');
  });
  it('skiff exec runs a command through the control plane and the agent, passing output and the exit code through', async () => {
    const { cluster, mk } = await setup();
    const agent = mk(undefined, { nodeIP: undefined });
    await agent.start();
    await cluster.client.create('Pod', pod('shell', 'n1', [
      { name: 'app', image: 'skiff/hello:1', command: ['sh', '-c', 'sleep infinity'], env: [{ name: 'GREETING', value: 'hi there' }] },
      { name: 'side', image: 'skiff/hello:1', command: ['sh', '-c', 'sleep infinity'] },
    ]));
    await cluster.client.create('Pod', pod('once', 'n1', [{ name: 'app', image: 'skiff/hello:1', command: ['sh', '-c', 'exit 0'] }], { restartPolicy: 'Never' }));
    await until(async () => (await getPod(cluster, 'shell'))?.status?.containerStatuses.every((c) => c.state?.running) === true, 10_000, 'shell running');
    await until(async () => (await getPod(cluster, 'once'))?.status?.phase === 'Succeeded', 10_000, 'once Succeeded');
    const skiff = async (args: string[]): Promise<{ code: number; out: string; err: string }> => {
      let out = '';
      let err = '';
      const code = await runCli(args, {
        stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) },
        env: { HOME: '/nonexistent', SKIFF_SERVER: cluster.address, SKIFF_CERTIFICATE_AUTHORITY: (await testTlsFiles()).caFile }, interactive: false,
        terminal: { input: Object.assign(new PassThrough(), { isTTY: false }) },
      });
      return { code, out, err };
    };
    expect(await skiff(['exec', 'shell', '-c', 'app', '--', 'sh', '-c', 'echo out $GREETING; echo oops >&2; exit 7'])).toEqual({ code: 7, out: 'out hi there\n', err: 'oops\n' });
    expect(await skiff(['exec', 'pod/shell', '-c', 'side', '--', 'hostname'])).toEqual({ code: 0, out: 'shell\n', err: '' });
    // What the container has no binary for exits 127, as a shell would say.
    expect(await skiff(['exec', 'shell', '-c', 'app', '--', 'nosuch'])).toMatchObject({ code: 127, err: 'nosuch: not found\n' });

    const several = await skiff(['exec', 'shell', '--', 'true']);
    expect(several.code).toBe(1);
    expect(several.err).toMatch(/^error \(BadRequest\): pod "default\/shell" has 2 containers; choose one of: app, side/);
    const done = await skiff(['exec', 'once', '--', 'true']);
    expect(done.err).toMatch(/cannot exec into a container in a completed pod; current phase is Succeeded/);
    // The fake runtime has no streaming server: -i is refused by the agent, saying so.
    const interactive = await skiff(['exec', '-i', 'shell', '-c', 'app', '--', 'sh']);
    expect(interactive).toMatchObject({ code: 1 });
    expect(interactive.err).toMatch(/the fake runtime of node n1 cannot run interactive exec \(-i\/-t\)/);
    expect((await skiff(['exec', 'shell', '-c', 'app'])).err).toMatch(/give the command after --/);
  });
  it('skiff port-forward carries connections from 127.0.0.1 through the control plane and the agent to the pod, half-close included', async () => {
    const { cluster, mk } = await setup();
    // Without --node-ip the agent listens on loopback, so a host-network pod's port is a
    // loopback port of this machine: the test's own server stands in for the pod's process.
    const agent = mk(undefined, { nodeIP: undefined });
    await agent.start();
    const backend = createTcpServer({ allowHalfOpen: true }, (sock) => {
      let got = '';
      sock.on('data', (d: Buffer) => (got += d.toString()));
      // Answers only after the client's end: the answer proves the half-close got through.
      sock.on('end', () => sock.end(`pong:${got}`));
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => backend.close(() => r())));
    const backendPort = (backend.address() as TcpAddress).port;
    await cluster.client.create('Pod', pod('web', 'n1', [{ name: 'app', image: 'skiff/hello:1', command: ['sh', '-c', 'sleep infinity'] }], { hostNetwork: true }));
    await until(async () => (await getPod(cluster, 'web'))?.status?.phase === 'Running', 10_000, 'web running');

    let out = '';
    let err = '';
    const ctx = makeCtx({
      settings: { server: cluster.address, token: '', namespace: 'default', origin: { server: 'flag', token: 'default', namespace: 'default' }, tls: TEST_CLIENT_TLS },
      explicitNamespace: false, stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) },
      interactive: false, timeoutMs: 5000,
    });
    const ac = new AbortController();
    let ports: number[] = [];
    const running = portForwardCommand(ctx, 'pod/web', [`:${backendPort}`, ':1'], ac.signal, (p) => (ports = p));
    await until(() => ports.length === 2, 10_000, 'listening');
    const exchange = (port: number, text: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const c = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => c.end(text));
        let got = '';
        c.on('data', (d: Buffer) => (got += d.toString()));
        c.on('end', () => resolve(got));
        c.on('error', reject);
      });
    const big = 'x'.repeat(1 << 20);
    const [a, b] = await Promise.all([exchange(ports[0]!, 'ping'), exchange(ports[0]!, big)]);
    expect(a).toBe('pong:ping');
    expect(b).toBe(`pong:${big}`);
    // Nothing listens on the pod's port 1: the connection is closed and the CLI says why.
    expect(await exchange(ports[1]!, 'hello')).toBe('');
    await until(() => err.includes('error forwarding port 1 to pod default/web'), 10_000, 'forwarding error reported');
    expect(err).toMatch(/cannot connect to 127\.0\.0\.1:1/);
    ac.abort();
    expect(await running).toBe(0);
    ctx.close();
    expect(out).toContain(`Forwarding from 127.0.0.1:${ports[0]} -> ${backendPort}\n`);
    expect(out).toContain(`Handling connection for ${ports[0]}\n`);
  });
});

describe('a deleted pod beside starts', () => {
  /** A fake runtime whose sandbox starts of "new-*" pods wait for a gate, and which notes sandbox stops. */
  class GatedRuntime extends FakeRuntime {
    gate: (() => void) | undefined;
    private opened: Promise<void> = Promise.resolve();
    readonly stopped: string[] = [];
    held = 0;
    hold(): void {
      this.opened = new Promise<void>((r) => (this.gate = r));
    }
    override async startSandbox(...a: Parameters<FakeRuntime['startSandbox']>): ReturnType<FakeRuntime['startSandbox']> {
      if (a[0].podName.startsWith('new-')) {
        this.held++;
        await this.opened;
      }
      return super.startSandbox(...a);
    }
    override stopSandbox(h: Parameters<FakeRuntime['stopSandbox']>[0]): Promise<void> {
      this.stopped.push(h.podUid);
      return super.stopSandbox(h);
    }
  }

  it('confirms the deletion at once but stops and removes the sandbox after the node\'s starts', async () => {
    const cluster = await startCluster();
    cleanups.push(() => cluster.stop());
    const host = new FakeHost({ startLatencyMs: 5 });
    cleanups.push(() => Promise.resolve(host.shutdown()));
    const stateDir = await mkdtemp(join(tmpdir(), 'skiff-agent-'));
    cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
    const runtime = new GatedRuntime({ host, nodeName: 'n1' });
    const agent = new NodeAgent({
      tls: TEST_CLIENT_TLS, nodeName: 'n1', controlPlane: cluster.address, runtime, stateDir, listen: '', log, nodeIP: '192.0.2.10',
      podCIDR: '10.244.0.0/24', heartbeatMs: 200, maxParallelStarts: 4,
    });
    cleanups.push(() => agent.stop());
    await agent.start();
    const old = await cluster.client.create('Pod', pod('old', 'n1', [{ name: 'app', image: 'busybox:1' }], { terminationGracePeriodSeconds: 1 }));
    await until(async () => (await getPod(cluster, 'old'))?.status?.phase === 'Running', 20_000, 'old Running');
    runtime.hold();
    await cluster.client.create('Pod', pod('new-1', 'n1', [{ name: 'app', image: 'busybox:1' }]));
    await until(() => Promise.resolve(runtime.held === 1), 5_000, 'new-1 held at its sandbox');
    await cluster.client.delete({ kind: 'Pod', namespace: 'default', name: 'old' });
    // The containers stop and the agent confirms the deletion while new-1's start is held.
    await until(async () => (await getPod(cluster, 'old')) === undefined, 20_000, 'old deleted from the API');
    const oldUid = old.metadata?.uid ?? '';
    expect([...host.containers.values()].filter((c) => c.state === 'running')).toHaveLength(0);
    expect(runtime.stopped).not.toContain(oldUid);
    runtime.gate?.();
    await until(async () => (await getPod(cluster, 'new-1'))?.status?.phase === 'Running', 20_000, 'new-1 Running');
    await until(() => Promise.resolve(runtime.stopped.includes(oldUid) && host.sandboxes.size === 1), 20_000, 'old sandbox removed after the start');
  });
});

describe('start bound (--max-parallel-starts)', () => {
  /** A fake runtime that notes how many start calls are in flight at once. */
  class CountingRuntime extends FakeRuntime {
    inFlight = 0;
    peak = 0;
    private async counted<T>(fn: () => Promise<T>): Promise<T> {
      this.peak = Math.max(this.peak, ++this.inFlight);
      try {
        return await fn();
      } finally {
        this.inFlight--;
      }
    }
    override startSandbox(...a: Parameters<FakeRuntime['startSandbox']>): ReturnType<FakeRuntime['startSandbox']> {
      return this.counted(() => super.startSandbox(...a));
    }
    override startContainer(...a: Parameters<FakeRuntime['startContainer']>): ReturnType<FakeRuntime['startContainer']> {
      return this.counted(() => super.startContainer(...a));
    }
  }

  for (const [bound, check] of [[2, (peak: number) => expect(peak).toBeLessThanOrEqual(2)], [0, (peak: number) => expect(peak).toBeGreaterThan(2)]] as const) {
    it(`${bound ? `holds new pods' starts to ${bound} at once` : 'starts every new pod at once with 0 (no bound)'}, and all run`, async () => {
      const cluster = await startCluster();
      cleanups.push(() => cluster.stop());
      const host = new FakeHost({ startLatencyMs: 30 });
      cleanups.push(() => Promise.resolve(host.shutdown()));
      const stateDir = await mkdtemp(join(tmpdir(), 'skiff-agent-'));
      cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
      const runtime = new CountingRuntime({ host, nodeName: 'n1' });
      const agent = new NodeAgent({
        tls: TEST_CLIENT_TLS, nodeName: 'n1', controlPlane: cluster.address, runtime, stateDir, listen: '', log, nodeIP: '192.0.2.10',
        podCIDR: '10.244.0.0/24', heartbeatMs: 200, maxParallelStarts: bound,
      });
      cleanups.push(() => agent.stop());
      await agent.start();
      expect(agent.maxParallelStarts).toBe(bound || undefined);
      for (let i = 0; i < 6; i++) await cluster.client.create('Pod', pod(`p${i}`, 'n1', [{ name: 'app', image: 'busybox:1' }]));
      await until(async () => {
        const pods = await Promise.all(Array.from({ length: 6 }, (_, i) => getPod(cluster, `p${i}`)));
        return pods.every((p) => p?.status?.phase === 'Running');
      }, 20_000, 'six pods Running');
      check(runtime.peak);
    });
  }
});
