// The agent's client given two control planes A and B over one etcd: when A cannot serve but
// keeps its connections open (cut off from etcd, or paused), a call that fails on it moves the
// agent to B, and a watch open on A resumes on B from its last revision (no re-list).
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../control-plane/api/testing.js';
import { silentLogger } from '../control-plane/log.js';
import { realClock } from '../proto/api/clock.js';
import { isApiError } from '../proto/api/errors.js';
import { wrap } from '../proto/api/kinds.js';
import { fromManifest } from '../proto/api/manifest.js';
import { ConfigMap } from '../proto/gen/skiff/v1/config.js';
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import { sharedEndpoints, testStore, uniquePrefix } from '../test/helpers/etcd-client.js';
import { TcpProxy } from '../test/helpers/tcp-proxy.js';
import { TEST_CLIENT_TLS } from '../test/helpers/tls.js';
import { until } from '../test/helpers/wait.js';
import { AgentApi } from './api-client.js';
import { ListWatch } from './list-watch.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const pod = (name: string): Pod =>
  fromManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } }).object as Pod;

interface Pair {
  a: TestServer;
  b: TestServer;
  /** Between A and etcd (refusing: A is cut off from etcd). */
  aEtcd: TcpProxy[];
  /** Between the agent and A (stalled: A is paused). */
  aFront: TcpProxy;
  api: AgentApi;
}

async function pair(): Promise<Pair> {
  const prefix = uniquePrefix();
  const aEtcd = await Promise.all(sharedEndpoints().map((e) => {
    const u = new URL(e);
    return new TcpProxy(u.hostname, Number(u.port)).start();
  }));
  const sa = testStore(aEtcd.map((p) => p.endpoint), prefix);
  const sb = testStore(sharedEndpoints(), prefix);
  const a = await startTestServer(sa.store, { watchCache: { syncTimeoutMs: 1500 } });
  const b = await startTestServer(sb.store);
  const aFront = await new TcpProxy('127.0.0.1', a.server.port).start();
  const api = new AgentApi({ address: `127.0.0.1:${aFront.port},127.0.0.1:${b.server.port}`, tls: TEST_CLIENT_TLS, timeoutMs: 3000 });
  cleanups.push(async () => {
    api.close();
    await aFront.stop();
    await a.stop();
    await b.stop();
    for (const p of aEtcd) await p.stop();
    await sa.close();
    sb.client.close();
  });
  return { a, b, aEtcd, aFront, api };
}

function podWatch(api: AgentApi): { names: Set<string>; lists: () => number } {
  const names = new Set<string>();
  let lists = 0;
  const lw = new ListWatch(api, { kind: 'Pod', fieldSelector: '', what: 'pod' }, realClock, silentLogger(), {
    onList: (items) => {
      lists++;
      for (const p of items) names.add(p.metadata!.name);
    },
    onUpsert: (p) => names.add(p.metadata!.name),
    onDelete: () => undefined,
  });
  lw.start();
  cleanups.push(() => lw.stop());
  return { names, lists: () => lists };
}

async function failsOver(p: Pair, call: () => Promise<unknown>): Promise<void> {
  expect(p.api.endpoints.index).toBe(0);
  const err = await call().then(() => undefined, (e: unknown) => e);
  expect(isApiError(err, 'Unavailable') || isApiError(err, 'Timeout'), String(err)).toBe(true);
  expect(p.api.endpoints.index).toBe(1);
}

describe('agent control-plane failover', () => {
  it('moves to the other control plane when its own is cut off from etcd, resuming its watch', async () => {
    const p = await pair();
    const w = podWatch(p.api);
    await p.a.api.create({ object: wrap('Pod', pod('before')) });
    await until(() => w.names.has('before'));
    const cm = await p.api.create('ConfigMap', ConfigMap.fromPartial({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'beat', namespace: 'default' }, data: { n: '0' } }));

    for (const x of p.aEtcd) x.setRefusing(true);
    // A heartbeat-like write with a short deadline: A cannot commit it.
    await failsOver(p, () => p.api.update('ConfigMap', { ...cm, data: { n: '1' } }, '', { timeoutMs: 1000 }));
    const again = await p.api.get('ConfigMap', 'default', 'beat', { timeoutMs: 1000 });
    await p.api.update('ConfigMap', { ...again, data: { n: '2' } }, '', { timeoutMs: 1000 });

    // Created through B while A still cannot see etcd: only a watch moved to B delivers it.
    await p.b.api.create({ object: wrap('Pod', pod('after')) });
    await until(() => w.names.has('after'));
    expect(w.lists()).toBe(1);
  });

  it('moves to the other control plane when its own stops answering (paused), resuming its watch', async () => {
    const p = await pair();
    const w = podWatch(p.api);
    await p.a.api.create({ object: wrap('Pod', pod('before')) });
    await until(() => w.names.has('before'));

    p.aFront.setStalled(true);
    await failsOver(p, () => p.api.get('Pod', 'default', 'before', { timeoutMs: 500 }));
    expect((await p.api.get('Pod', 'default', 'before', { timeoutMs: 1000 })).metadata?.name).toBe('before');

    await p.b.api.create({ object: wrap('Pod', pod('after')) });
    await until(() => w.names.has('after'));
    expect(w.lists()).toBe(1);
    p.aFront.setStalled(false);
  });
});
