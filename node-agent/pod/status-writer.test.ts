// The status writer against a real API server over a real etcd: coalescing, batching, no post
// for an unchanged status, retry after a failed post, and Conflict handling.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { fromManifest } from '../../proto/api/manifest.js';
import { ManualClock } from '../../proto/api/clock.js';
import { PodStatus, type Pod } from '../../proto/gen/skiff/v1/core.js';
import { startApiServer } from '../../control-plane/api/server.js';
import { SharedInformers } from '../../control-plane/informers.js';
import { testStore } from '../../test/helpers/etcd-client.js';
import { TcpProxy } from '../../test/helpers/tcp-proxy.js';
import { until } from '../../test/helpers/wait.js';
import { AgentApi } from '../api-client.js';
import { StatusWriter, type StatusApi } from './status-writer.js';
import { TEST_CLIENT_TLS, TEST_KUBELET_TLS, TEST_SERVING } from '../../test/helpers/tls.js';

const log = pino({ level: process.env.SKIFF_TEST_LOG ?? 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function cluster(): Promise<{ client: AgentApi; port: number }> {
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
  return { client, port: server.port };
}

/** The real client, counting status posts and how many run at once; `hold` parks posts until released. */
class CountingApi implements StatusApi {
  posts: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  hold: Promise<void> | undefined;
  constructor(private readonly real: AgentApi) {}
  get: StatusApi['get'] = (kind, ns, name) => this.real.get(kind, ns, name);
  update: StatusApi['update'] = async (kind, obj, sub) => {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      this.posts.push(`${(obj as Pod).metadata?.name}:${(obj as Pod).status?.message}`);
      if (this.hold) await this.hold;
      return await this.real.update(kind, obj, sub);
    } finally {
      this.inFlight--;
    }
  };
}

function podManifest(name: string): Pod {
  return fromManifest({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'skiff/hello:1' }] },
  }).object as Pod;
}

const st = (message: string): PodStatus => PodStatus.fromPartial({ phase: 'Running', message });

describe('StatusWriter', () => {
  it('coalesces a burst into one post of the latest status, and one more for changes during a post', async () => {
    const { client } = await cluster();
    const api = new CountingApi(client);
    const w = new StatusWriter({ api, clock: new ManualClock(), log });
    const pod = await client.create('Pod', podManifest('a'));
    w.set(pod, st('1'));
    w.set(pod, st('2'));
    w.set(pod, st('3'));
    await w.idle();
    expect(api.posts).toEqual(['a:3']);
    expect((await client.get('Pod', 'default', 'a')).status?.message).toBe('3');

    let release!: () => void;
    api.hold = new Promise((r) => (release = r));
    w.set(pod, st('4'));
    await until(() => api.inFlight === 1, 5000, 'post in flight');
    w.set(pod, st('5'));
    w.set(pod, st('6'));
    api.hold = undefined;
    release();
    await w.idle();
    expect(api.posts).toEqual(['a:3', 'a:4', 'a:6']);
    expect((await client.get('Pod', 'default', 'a')).status?.message).toBe('6');
    expect(w.pending).toBe(0);
  });

  it('does not post a status equal to the acknowledged one (stored, or posted before)', async () => {
    const { client } = await cluster();
    const api = new CountingApi(client);
    const w = new StatusWriter({ api, clock: new ManualClock(), log });
    const created = await client.create('Pod', podManifest('b'));
    const stored = await client.update('Pod', { ...created, status: st('x') }, 'status');
    // The stored status as the server keeps it (it may fill in fields of its own).
    const x = stored.status!;
    expect(x.message).toBe('x');
    w.observe(stored);
    w.set(stored, PodStatus.fromPartial(x));
    await w.idle();
    expect(api.posts).toEqual([]);
    w.set(stored, PodStatus.fromPartial({ ...x, message: 'y' }));
    await w.idle();
    w.set(stored, PodStatus.fromPartial({ ...x, message: 'y' }));
    await w.idle();
    expect(api.posts).toEqual(['b:y']);
  });

  it('posts the pods that are due together, at most maxInFlight at once', async () => {
    const { client } = await cluster();
    const api = new CountingApi(client);
    const w = new StatusWriter({ api, clock: new ManualClock(), log, maxInFlight: 2 });
    const pods = await Promise.all(['p1', 'p2', 'p3', 'p4', 'p5'].map((n) => client.create('Pod', podManifest(n))));
    for (const p of pods) w.set(p, st('up'));
    await w.idle();
    expect(api.posts.sort()).toEqual(['p1:up', 'p2:up', 'p3:up', 'p4:up', 'p5:up']);
    expect(api.maxInFlight).toBe(2);
    for (const p of pods) expect((await client.get('Pod', 'default', p.metadata!.name)).status?.message).toBe('up');
  });

  it('keeps a failed post due and retries it with back-off until the API answers', async () => {
    const { client, port } = await cluster();
    const proxy = await new TcpProxy('127.0.0.1', port).start();
    cleanups.push(() => proxy.stop());
    const through = new AgentApi({ tls: TEST_CLIENT_TLS, address: `127.0.0.1:${proxy.port}`, timeoutMs: 1000 });
    cleanups.push(() => Promise.resolve(through.close()));
    const api = new CountingApi(through);
    const clock = new ManualClock();
    const w = new StatusWriter({ api, clock, log, retryInitialMs: 500, retryMaxMs: 2000 });
    const pod = await client.create('Pod', podManifest('c'));
    proxy.setRefusing(true);
    w.set(pod, st('late'));
    await w.idle();
    expect(api.posts).toEqual(['c:late']);
    expect(w.pending).toBe(1);
    expect(clock.pendingDelays()).toEqual([500]);
    // Still down: the next attempt fails too and waits twice as long.
    clock.advance(500);
    await w.idle();
    expect(api.posts).toHaveLength(2);
    expect(clock.pendingDelays()).toEqual([1000]);
    proxy.setRefusing(false);
    await until(async () => {
      clock.advance(2000);
      await w.idle();
      return w.pending === 0;
    }, 20_000, 'status posted after the outage');
    expect((await client.get('Pod', 'default', 'c')).status?.message).toBe('late');
  });

  it('re-reads the pod on Conflict and keeps what others wrote outside the status', async () => {
    const { client } = await cluster();
    const api = new CountingApi(client);
    const w = new StatusWriter({ api, clock: new ManualClock(), log });
    const pod = await client.create('Pod', podManifest('d'));
    w.observe(pod);
    await client.update('Pod', { ...pod, metadata: { ...pod.metadata!, labels: { app: 'd' } } });
    w.set(pod, st('after-conflict'));
    await w.idle();
    const got = await client.get('Pod', 'default', 'd');
    expect(got.status?.message).toBe('after-conflict');
    expect(got.metadata?.labels).toEqual({ app: 'd' });
    expect(api.posts).toEqual(['d:after-conflict', 'd:after-conflict']);
  });

  it('forgets a pod that is gone (NotFound) instead of retrying', async () => {
    const { client } = await cluster();
    const api = new CountingApi(client);
    const clock = new ManualClock();
    const w = new StatusWriter({ api, clock, log });
    const pod = await client.create('Pod', podManifest('e'));
    await client.delete({ kind: 'Pod', namespace: 'default', name: 'e', gracePeriodSeconds: 0 });
    w.set(pod, st('x'));
    await w.idle();
    expect(api.posts).toEqual(['e:x']);
    expect(w.pending).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });
});
