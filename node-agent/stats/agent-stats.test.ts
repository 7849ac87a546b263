// Resource metrics from a node agent on the fake runtime to the metrics API: the agent samples
// the containers' usage (set per container by env on the fake), serves it as NodeAgent.Stats,
// and the control plane lists it as PodMetrics and NodeMetrics.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { unwrapAs } from '../../proto/api/kinds.js';
import { fromManifest } from '../../proto/api/manifest.js';
import { NodeAgentClient, type NodeStats } from '../../proto/gen/skiff/v1/agent.js';
import { ApiClient } from '../../proto/gen/skiff/v1/api.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { startApiServer } from '../../control-plane/api/server.js';
import { SharedInformers } from '../../control-plane/informers.js';
import { testStore } from '../../test/helpers/etcd-client.js';
import { until } from '../../test/helpers/wait.js';
import { NodeAgent } from '../agent.js';
import { FakeRuntime } from '../runtime/fake/driver.js';
import { FakeHost } from '../runtime/fake/host.js';
import { grpcCredentials } from '../../proto/api/tls-client.js';
import { TEST_AGENT_SERVING, TEST_CLIENT_TLS, TEST_KUBELET_TLS, TEST_SERVING } from '../../test/helpers/tls.js';

const log = pino({ level: process.env.SKIFF_TEST_LOG ?? 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

function call<Res>(fn: (cb: (e: Error | null, r: Res) => void) => void): Promise<Res> {
  return new Promise((resolve, reject) => fn((e, r) => (e ? reject(e) : resolve(r))));
}

describe('agent stats with the fake runtime', () => {
  it('samples container usage, serves it as NodeAgent.Stats and the API lists PodMetrics and NodeMetrics', async () => {
    const ts = testStore();
    const informers = new SharedInformers(ts.store);
    const server = await startApiServer({ tls: TEST_SERVING, kubelet: TEST_KUBELET_TLS, store: ts.store, informers, listen: '127.0.0.1:0', log });
    cleanups.push(async () => {
      await server.stop();
      await informers.stop();
      await ts.close();
    });
    const host = new FakeHost();
    cleanups.push(() => Promise.resolve(host.shutdown()));
    const stateDir = await mkdtemp(join(tmpdir(), 'skiff-agent-stats-'));
    cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
    const agent = new NodeAgent({ tls: TEST_CLIENT_TLS, serving: TEST_AGENT_SERVING,
      nodeName: 'n1', controlPlane: `127.0.0.1:${server.port}`, runtime: new FakeRuntime({ host, nodeName: 'n1' }), stateDir,
      listen: '127.0.0.1:0', nodeIP: '127.0.0.1', podCIDR: '10.244.0.0/24', log, heartbeatMs: 200,
      // Sampled by hand below, so the window is known.
      statsIntervalMs: 3_600_000,
    });
    cleanups.push(() => agent.stop());
    await agent.start();
    const api = new ApiClient(`127.0.0.1:${server.port}`, grpcCredentials(`127.0.0.1:${server.port}`, TEST_CLIENT_TLS));
    cleanups.push(() => Promise.resolve(api.close()));
    const pod = fromManifest({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'busy', namespace: 'default', labels: { app: 'busy' } },
      spec: {
        nodeName: 'n1',
        containers: [
          { name: 'main', image: 'skiff/hello:1', env: [{ name: 'SKIFF_FAKE_CPU_MILLICORES', value: '250' }, { name: 'SKIFF_FAKE_MEMORY_BYTES', value: String(50 << 20) }] },
          { name: 'side', image: 'skiff/hello:1' },
        ],
      },
    }).object as Pod;
    await call((cb) => api.create({ object: { object: { $case: 'pod', value: pod } }, dryRun: false }, cb));
    await until(async () => {
      const p = unwrapAs('Pod', await call((cb) => api.get({ kind: 'Pod', namespace: 'default', name: 'busy' }, cb)));
      return p.status?.containerStatuses.every((c) => c.state?.running) === true && p.status.containerStatuses.length === 2;
    }, 15_000, 'both containers running');

    await agent.stats.sample();
    await new Promise((r) => setTimeout(r, 1000));
    await agent.stats.sample();

    const client = new NodeAgentClient(`127.0.0.1:${agent.port}`, grpcCredentials(`127.0.0.1:${agent.port}`, TEST_KUBELET_TLS));
    cleanups.push(() => Promise.resolve(client.close()));
    const stats = await call<NodeStats>((cb) => client.stats({}, new Metadata(), cb));
    expect(stats.windowSeconds).toBeGreaterThanOrEqual(1);
    const busy = stats.pods.find((p) => p.name === 'busy');
    expect(busy?.containers.map((c) => [c.name, c.cpuNanoCores, c.memoryWorkingSetBytes]).sort()).toEqual([
      ['main', 250_000_000, 50 << 20],
      ['side', 1_000_000, 1 << 20],
    ]);
    expect(stats.cpuNanoCores).toBe(251_000_000);

    const pods = await call<{ items: unknown[] }>((cb) => api.list({ kind: 'PodMetrics', namespace: 'default', labelSelector: 'app=busy', fieldSelector: '', resourceVersion: '' }, cb));
    const pm = unwrapAs('PodMetrics', pods.items[0] as never);
    expect(pm.metadata?.name).toBe('busy');
    expect(Object.fromEntries(pm.containers.map((c) => [c.name, c.usage]))).toEqual({
      main: { cpu: '250000000n', memory: `${50 * 1024}Ki` },
      side: { cpu: '1000000n', memory: '1024Ki' },
    });
    const nodes = await call<{ items: unknown[] }>((cb) => api.list({ kind: 'NodeMetrics', namespace: '', labelSelector: '', fieldSelector: '', resourceVersion: '' }, cb));
    expect(unwrapAs('NodeMetrics', nodes.items[0] as never).usage).toEqual({ cpu: '251000000n', memory: `${51 * 1024}Ki` });
    // Read-only: they are measured, never written.
    await expect(call((cb) => api.delete({ kind: 'PodMetrics', namespace: 'default', name: 'busy', propagationPolicy: '', resourceVersion: '', uid: '', dryRun: false }, cb)))
      .rejects.toThrow(/read-only/);
  }, 60_000);
});
