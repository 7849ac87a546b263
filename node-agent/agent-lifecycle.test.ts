// Pod lifecycle on the node agent with the fake runtime against a real control plane (API
// server in-process over a real etcd): init containers in order with restarts per policy,
// activeDeadlineSeconds, emptyDir sizeLimit eviction and Memory emptyDirs as tmpfs.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { isApiError } from '../proto/api/errors.js';
import { fromManifest, type JsonObject } from '../proto/api/manifest.js';
import { ManualClock, type Clock } from '../proto/api/clock.js';
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import { startApiServer } from '../control-plane/api/server.js';
import { SharedInformers } from '../control-plane/informers.js';
import { podStatus } from '../proto/api/columns/pod-status.js';
import { testStore } from '../test/helpers/etcd-client.js';
import { until } from '../test/helpers/wait.js';
import { NodeAgent, type NodeAgentOptions } from './agent.js';
import { AgentApi } from './api-client.js';
import { mountsUnder } from './pod/volumes.js';
import { FakeRuntime } from './runtime/fake/driver.js';
import { FakeHost } from './runtime/fake/host.js';
import { TEST_AGENT_SERVING, TEST_CLIENT_TLS, TEST_KUBELET_TLS, TEST_SERVING } from '../test/helpers/tls.js';

const log = pino({ level: process.env.SKIFF_TEST_LOG ?? 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function setup(opts: { clock?: Clock; agent?: Partial<NodeAgentOptions> } = {}) {
  const ts = testStore();
  const informers = new SharedInformers(ts.store);
  const server = await startApiServer({ tls: TEST_SERVING, kubelet: TEST_KUBELET_TLS, store: ts.store, informers, listen: '127.0.0.1:0', log });
  const client = new AgentApi({ tls: TEST_CLIENT_TLS, address: `127.0.0.1:${server.port}` });
  cleanups.push(async () => {
    client.close();
    await server.stop();
    await informers.stop();
    await ts.close();
  });
  const host = new FakeHost();
  cleanups.push(() => Promise.resolve(host.shutdown()));
  const stateDir = await mkdtemp(join(tmpdir(), 'skiff-agent-lc-'));
  cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
  const runtime = new FakeRuntime({ host, nodeName: 'n1' });
  const agent = new NodeAgent({ tls: TEST_CLIENT_TLS, serving: TEST_AGENT_SERVING,
    nodeName: 'n1', controlPlane: `127.0.0.1:${server.port}`, runtime, stateDir, listen: '', clock: opts.clock, log,
    heartbeatMs: 200, nodeIP: '192.0.2.10', podCIDR: '10.244.0.0/24', apiTimeoutMs: 2000, ...opts.agent,
  });
  cleanups.push(() => agent.stop());
  await agent.start();
  const get = async (name: string): Promise<Pod | undefined> => {
    try {
      return await client.get('Pod', 'default', name);
    } catch (e) {
      if (isApiError(e, 'NotFound')) return undefined;
      throw e;
    }
  };
  const create = (name: string, spec: JsonObject): Promise<Pod> =>
    client.create('Pod', fromManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: 'n1', terminationGracePeriodSeconds: 1, ...spec } }).object as Pod);
  return { client, host, stateDir, agent, runtime, get, create };
}

type Env = Awaited<ReturnType<typeof setup>>;

async function waitPod(env: Env, name: string, cond: (p: Pod) => boolean, what: string): Promise<Pod> {
  let last: Pod | undefined;
  await until(async () => {
    last = await env.get(name);
    return !!last && cond(last);
  }, 15_000, what);
  return last!;
}

const sh = (script: string) => ({ image: 'skiff/hello:1', command: ['sh', '-c', script] });

describe('init containers', () => {
  it('run one at a time in order to completion, before the app containers', async () => {
    const env = await setup();
    const started: string[] = [];
    env.agent.events.on('containerStarted', (e) => started.push(e.container));
    await env.create('web', {
      initContainers: [{ name: 'first', image: 'skiff/hello:1' }, { name: 'second', ...sh('exit 0') }],
      containers: [{ name: 'app', image: 'skiff/hello:1' }],
    });
    // The first runs until it is ended from outside: nothing else starts meanwhile.
    let p = await waitPod(env, 'web', (x) => !!x.status?.initContainerStatuses[0]?.state?.running, 'first init container running');
    expect(podStatus(p)).toBe('Init:0/2');
    expect(p.status?.phase).toBe('Pending');
    expect(p.status?.conditions.find((c) => c.type === 'Initialized')).toMatchObject({ status: 'False', message: 'containers with incomplete status: [first second]' });
    expect(p.status?.containerStatuses[0]?.state?.waiting?.reason).toBe('PodInitializing');
    expect(started).toEqual(['first']);
    const first = [...env.host.containers.values()].find((c) => c.cfg.name === 'first')!;
    env.runtime.crash({ version: 1, runtime: 'fake', sandboxId: first.sandboxId, containerId: first.id, name: 'first', attempt: 0 }, 0);
    p = await waitPod(env, 'web', (x) => x.status?.phase === 'Running', 'running after init');
    expect(started).toEqual(['first', 'second', 'app']);
    expect(p.status?.initContainerStatuses.map((s) => [s.name, s.state?.terminated?.reason, s.ready])).toEqual([['first', 'Completed', true], ['second', 'Completed', true]]);
    expect(p.status?.conditions.find((c) => c.type === 'Initialized')?.status).toBe('True');
    // A completed init container is not run again.
    await env.agent.settled();
    expect(started).toEqual(['first', 'second', 'app']);
  });

  it('a restarted agent re-attaches without running completed init containers again', async () => {
    const env = await setup();
    const started: string[] = [];
    env.agent.events.on('containerStarted', (e) => started.push(e.container));
    await env.create('again', {
      initContainers: [{ name: 'setup', ...sh('exit 0') }],
      containers: [{ name: 'app', image: 'skiff/hello:1' }],
    });
    await waitPod(env, 'again', (x) => x.status?.phase === 'Running', 'running');
    await env.agent.settled();
    await env.agent.stop();
    expect(started).toEqual(['setup', 'app']);
    const a2 = new NodeAgent({ ...env.agent.opts });
    cleanups.push(() => a2.stop());
    const restarted: string[] = [];
    a2.events.on('containerStarted', (e) => restarted.push(e.container));
    await a2.start();
    await until(() => a2.podKeys().length === 1, 10_000, 'pod re-attached');
    await a2.settled();
    const p = (await env.get('again'))!;
    expect(p.status?.phase).toBe('Running');
    expect(p.status?.initContainerStatuses[0]?.state?.terminated?.exitCode).toBe(0);
    expect(restarted).toEqual([]);
  });

  it('restarts a failing init container with the crash back-off (OnFailure) and never starts the app', async () => {
    const env = await setup({ agent: { backoff: { initialMs: 600_000, maxMs: 600_000 } } });
    const started: string[] = [];
    env.agent.events.on('containerStarted', (e) => started.push(e.container));
    await env.create('boot', {
      restartPolicy: 'OnFailure',
      initContainers: [{ name: 'migrate', ...sh('exit 3') }],
      containers: [{ name: 'app', image: 'skiff/hello:1' }],
    });
    const p = await waitPod(env, 'boot', (x) => x.status?.initContainerStatuses[0]?.state?.waiting?.reason === 'CrashLoopBackOff', 'init crash loop');
    // First restart at once, the next one waits the back-off.
    expect(p.status?.initContainerStatuses[0]).toMatchObject({ restartCount: 1, lastState: { terminated: { exitCode: 3 } } });
    expect(p.status?.phase).toBe('Pending');
    expect(podStatus(p)).toBe('Init:CrashLoopBackOff (exit 3)');
    expect(started).toEqual(['migrate', 'migrate']);
  });

  it('fails the pod when an init container fails under restartPolicy Never', async () => {
    const env = await setup();
    const started: string[] = [];
    env.agent.events.on('containerStarted', (e) => started.push(e.container));
    await env.create('once', {
      restartPolicy: 'Never',
      initContainers: [{ name: 'check', ...sh('exit 2') }],
      containers: [{ name: 'app', image: 'skiff/hello:1' }],
    });
    const p = await waitPod(env, 'once', (x) => x.status?.phase === 'Failed', 'failed');
    expect(podStatus(p)).toBe('Init:Error');
    expect(p.status?.initContainerStatuses[0]).toMatchObject({ restartCount: 0, state: { terminated: { exitCode: 2, reason: 'Error' } } });
    await env.agent.settled();
    expect(started).toEqual(['check']);
  });
});

describe('pod updates', () => {
  it('restarts a running container on its new image when the pod\'s image is updated, whatever the policy', async () => {
    const env = await setup();
    await env.create('img', { restartPolicy: 'Never', containers: [{ name: 'app', image: 'skiff/hello:1' }] });
    const p = await waitPod(env, 'img', (x) => x.status?.phase === 'Running', 'running');
    const next = structuredClone(p);
    next.spec!.containers[0]!.image = 'skiff/hello:2';
    await env.client.update('Pod', next);
    const after = await waitPod(env, 'img', (x) => x.status?.containerStatuses[0]?.restartCount === 1 && !!x.status.containerStatuses[0].state?.running, 'restarted');
    expect(after.status?.containerStatuses[0]?.image).toBe('skiff/hello:2');
    expect(after.status?.phase).toBe('Running');
    const running = [...env.host.containers.values()].filter((c) => c.state === 'running');
    expect(running.map((c) => c.cfg.image)).toEqual(['skiff/hello:2']);
  });
});

describe('activeDeadlineSeconds', () => {
  it('fails the pod with DeadlineExceeded once it ran longer, stopping its containers for good', async () => {
    const clock = new ManualClock();
    const env = await setup({ clock });
    await env.create('batch', { activeDeadlineSeconds: 600, containers: [{ name: 'work', image: 'skiff/hello:1' }] });
    const running = await waitPod(env, 'batch', (x) => x.status?.phase === 'Running', 'running');
    // Lowered on the running pod (an update the API allows): the new deadline counts.
    const lowered = structuredClone(running);
    lowered.spec!.activeDeadlineSeconds = 30;
    await env.client.update('Pod', lowered);
    // Ordering does not matter: a deadline found passed on the update fails the pod at once.
    clock.advance(29_000);
    await env.agent.settled();
    expect((await env.get('batch'))?.status?.phase).toBe('Running');
    clock.advance(1_000);
    const p = await waitPod(env, 'batch', (x) => x.status?.phase === 'Failed' && !!x.status.containerStatuses[0]?.state?.terminated, 'deadline exceeded');
    expect(p.status).toMatchObject({ reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' });
    expect([...env.host.containers.values()].map((c) => c.state)).toEqual(['exited']);
    // restartPolicy Always, yet nothing restarts after the deadline.
    clock.advance(60_000);
    await env.agent.settled();
    expect([...env.host.containers.values()].map((c) => c.state)).toEqual(['exited']);
    expect((await env.get('batch'))?.status?.phase).toBe('Failed');
  });
});

describe('emptyDir', () => {
  it('evicts a pod whose emptyDir on disk grows past its sizeLimit, naming the volume and the limit', async () => {
    const env = await setup({ agent: { volumeStatsPeriodMs: 50 } });
    const created = await env.create('cache', {
      volumes: [{ name: 'data', emptyDir: { sizeLimit: '1Mi' } }],
      containers: [{ name: 'app', image: 'skiff/hello:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
    });
    await waitPod(env, 'cache', (x) => x.status?.phase === 'Running', 'running');
    // What the container would write, written where its mount points on the node.
    const dir = join(env.stateDir, 'pods', created.metadata!.uid, 'volumes', 'data');
    await writeFile(join(dir, 'blob'), Buffer.alloc(2 * 1024 * 1024, 1));
    const p = await waitPod(env, 'cache', (x) => x.status?.phase === 'Failed', 'evicted');
    expect(p.status).toMatchObject({ reason: 'Evicted', message: 'Usage of EmptyDir volume "data" exceeds the limit "1Mi". ' });
  });

  it('mounts a Memory emptyDir as a tmpfs of sizeLimit and unmounts it with the pod', async () => {
    const env = await setup();
    const created = await env.create('ram', {
      volumes: [{ name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } }],
      containers: [{ name: 'app', image: 'skiff/hello:1', volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] }],
    });
    await waitPod(env, 'ram', (x) => x.status?.phase === 'Running', 'running');
    const podDir = join(env.stateDir, 'pods', created.metadata!.uid);
    const dir = join(podDir, 'volumes', 'scratch');
    expect(await mountsUnder(podDir)).toEqual([dir]);
    const line = (await readFile('/proc/self/mounts', 'utf8')).split('\n').find((l) => l.split(' ')[1] === dir)!;
    expect(line.split(' ')[2]).toBe('tmpfs');
    expect(line).toContain('size=8192k');
    const mount = [...env.host.containers.values()][0]!.cfg.mounts[0]!;
    expect(mount).toMatchObject({ containerPath: '/scratch', hostPath: dir });
    await env.client.delete({ kind: 'Pod', namespace: 'default', name: 'ram' });
    await until(async () => !(await env.get('ram')), 15_000, 'pod deleted');
    expect(await mountsUnder(podDir)).toEqual([]);
    await expect(stat(podDir)).rejects.toThrow();
  });
});
