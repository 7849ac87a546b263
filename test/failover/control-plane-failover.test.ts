// Control-plane failover as a user would run it (issue 15): one etcd, two control planes A and
// B (API server and controller manager each, in this process but with their own etcd clients,
// informers and ports), three node agents on the fake runtime given both addresses, and a
// 6-replica Deployment. A leads and is the one the agents use. Killing A must cost nothing:
// the agents move to B, their nodes stay Ready, no pod is deleted or turns NotReady, and B,
// now leading, scales the Deployment to 9.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startApiServer, type RunningApiServer } from '../../control-plane/api/server.js';
import { startControllerManager, type ControllerManager } from '../../control-plane/controllers/manager.js';
import { deploymentFixture } from '../../control-plane/controllers/runtime/fixtures.js';
import { SharedInformers } from '../../control-plane/informers.js';
import { newEtcdClient } from '../../control-plane/storage/etcd-client.js';
import { Store } from '../../control-plane/storage/store.js';
import { NodeAgent } from '../../node-agent/agent.js';
import { AgentApi } from '../../node-agent/api-client.js';
import { FakeRuntime } from '../../node-agent/runtime/fake/driver.js';
import { FakeHost } from '../../node-agent/runtime/fake/host.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { sharedEndpoints, uniquePrefix } from '../helpers/etcd-client.js';
import { until } from '../helpers/wait.js';
import { TEST_AGENT_SERVING, TEST_CLIENT_TLS, TEST_KUBELET_TLS, TEST_SERVING } from '../helpers/tls.js';

const log = pino({ level: process.env.SKIFF_TEST_LOG ?? 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

interface ControlPlane {
  id: string;
  address: string;
  manager: ControllerManager;
  kill(): Promise<void>;
}

async function controlPlane(id: string, prefix: string): Promise<ControlPlane> {
  const client: Etcd3 = newEtcdClient(sharedEndpoints());
  const store = new Store(client, { prefix });
  const informers = new SharedInformers(store);
  const server: RunningApiServer = await startApiServer({ tls: TEST_SERVING, kubelet: TEST_KUBELET_TLS, store, informers, listen: '127.0.0.1:0', log, identity: id });
  const manager = await startControllerManager({
    store, informers, etcd: client, identity: id, leaseTtlSeconds: 2,
    nodeGracePeriodSeconds: 15, podEvictionDelaySeconds: 20, log: () => undefined,
  });
  let dead = false;
  const kill = async (): Promise<void> => {
    if (dead) return;
    dead = true;
    // As a crash: the listener and every connection go at once, the lease is left to expire.
    await server.stop();
    await manager.stop();
    await informers.stop();
    client.close();
  };
  cleanups.push(kill);
  return { id, address: `127.0.0.1:${server.port}`, manager, kill };
}

const isReady = (p: Pod): boolean => p.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

describe('control-plane failover', () => {
  it('killing the leading control plane the agents use evicts nothing, keeps nodes Ready, and the other one scales 6 -> 9', async () => {
    const prefix = uniquePrefix();
    const a = await controlPlane('cp-a', prefix);
    await until(() => a.manager.isLeader(), 15_000, 'A to lead');
    const b = await controlPlane('cp-b', prefix);

    const agents: NodeAgent[] = [];
    for (const name of ['n1', 'n2', 'n3']) {
      const host = new FakeHost();
      const stateDir = await mkdtemp(join(tmpdir(), `skiff-failover-${name}-`));
      const agent = new NodeAgent({ tls: TEST_CLIENT_TLS, serving: TEST_AGENT_SERVING,
        nodeName: name, controlPlane: `${a.address},${b.address}`, runtime: new FakeRuntime({ host, nodeName: name }),
        stateDir, listen: '127.0.0.1:0', nodeIP: '127.0.0.1', podCIDR: `10.244.${agents.length + 1}.0/24`,
        heartbeatMs: 1000, apiTimeoutMs: 3000, log,
      });
      cleanups.push(async () => {
        await agent.stop();
        host.shutdown();
        await rm(stateDir, { recursive: true, force: true });
      });
      await agent.start();
      agents.push(agent);
    }

    // The user's client talks to B (A is about to die).
    const user = new AgentApi({ tls: TEST_CLIENT_TLS, address: b.address });
    cleanups.push(() => Promise.resolve(user.close()));
    await user.create('Deployment', deploymentFixture('web', { replicas: 6 }));
    const pods = async (): Promise<Pod[]> => (await user.list('Pod', { namespace: 'default' })).items;
    await until(async () => (await pods()).filter(isReady).length === 6, 30_000, '6 ready pods');
    const before = new Set((await pods()).map((p) => p.metadata!.uid));

    // From here on, record anything that would mean a workload paid for the failover.
    const trouble: string[] = [];
    const watch = new Store(newEtcdClient(sharedEndpoints()), { prefix });
    cleanups.push(() => Promise.resolve(watch.client.close()));
    const rev = await watch.currentRevision();
    const onError = (e: Error): void => void trouble.push(`watch failed: ${e.message}`);
    const podWatch = watch.watch('Pod', {
      afterRevision: rev,
      onError,
      onEvent: ({ type, object: p }) => {
        if (type === 'DELETED') trouble.push(`pod ${p.metadata!.name} deleted`);
        else if (p.metadata?.deletionTimestamp) trouble.push(`pod ${p.metadata.name} terminating`);
        else if (before.has(p.metadata!.uid) && !isReady(p)) trouble.push(`pod ${p.metadata!.name} not ready`);
      },
    });
    const nodeWatch = watch.watch('Node', {
      afterRevision: rev,
      onError,
      onEvent: ({ object: n }) => {
        const ready = n.status?.conditions.find((c) => c.type === 'Ready');
        if (ready?.status !== 'True') trouble.push(`node ${n.metadata!.name} Ready=${ready?.status ?? '?'}`);
        for (const t of n.spec?.taints ?? []) trouble.push(`node ${n.metadata!.name} tainted ${t.key}:${t.effect}`);
      },
    });
    cleanups.push(async () => {
      await podWatch.close();
      await nodeWatch.close();
    });

    await a.kill();
    await until(() => b.manager.isLeader(), 15_000, 'B to lead');
    const d = await user.get('Deployment', 'default', 'web');
    d.spec!.replicas = 9;
    await user.update('Deployment', d);
    await until(async () => (await pods()).filter(isReady).length === 9, 30_000, '9 ready pods');
    // Past the node grace period (15 s) since A died: B saw every agent's heartbeats.
    await until(async () => {
      const leases = (await user.list('Lease', { namespace: 'kube-node-lease' })).items;
      return leases.every((l) => Date.parse(l.spec!.renewTime) > Date.now() - 3000);
    }, 10_000, 'fresh leases through B');
    await new Promise((r) => setTimeout(r, 16_000));
    expect(trouble).toEqual([]);
    expect((await pods()).filter((p) => before.has(p.metadata!.uid) && isReady(p))).toHaveLength(6);
    expect(agents.every((ag) => ag.controlPlaneReachable)).toBe(true);
  });
});
