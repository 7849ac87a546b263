// The agent's side of the pod network against a real control plane (API server over a real
// etcd, with the node IPAM controller): an agent without --pod-cidr waits for the range the
// control plane gives its Node, says why while the cluster is full, then runs pods with IPs from
// it; with routes on, each agent keeps a route to the other node's pods in its own network
// namespace (made by the test; root only) and drops it when that Node goes.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, type Clock } from '../../proto/api/clock.js';
import { containsAddress, mustParseCidr, parseIPv4 } from '../../proto/api/cidr.js';
import { fromManifest } from '../../proto/api/manifest.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { testStore } from '../../test/helpers/etcd-client.js';
import { until } from '../../test/helpers/wait.js';
import { startApiServer } from '../../control-plane/api/server.js';
import { SharedInformers } from '../../control-plane/informers.js';
import { StoreControllerClient } from '../../control-plane/controllers/client.js';
import { ClientEventRecorder } from '../../control-plane/controllers/events.js';
import { NodeIpamController } from '../../control-plane/controllers/nodeipam/controller.js';
import { NodeAgent, type NodeAgentOptions } from '../agent.js';
import { AgentApi } from '../api-client.js';
import { FakeRuntime } from '../runtime/fake/driver.js';
import { FakeHost } from '../runtime/fake/host.js';
import { commandExec, type Exec } from './exec.js';
import { TEST_AGENT_SERVING, TEST_CLIENT_TLS, TEST_KUBELET_TLS, TEST_SERVING } from '../../test/helpers/tls.js';

const root = process.getuid?.() === 0;
const quiet = pino({ level: process.env.SKIFF_TEST_LOG ?? 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function startCluster(clusterCIDR: string, maskSize: number) {
  const ts = testStore();
  const informers = new SharedInformers(ts.store);
  const server = await startApiServer({ tls: TEST_SERVING, kubelet: TEST_KUBELET_TLS, store: ts.store, informers, listen: '127.0.0.1:0', log: quiet });
  const client = new StoreControllerClient(ts.store);
  const ipam = new NodeIpamController({
    store: ts.store, informers, client, recorder: new ClientEventRecorder(client, { component: 'node-ipam-controller' }),
    clusterCIDR, nodeCIDRMaskSize: maskSize,
  });
  await ipam.start();
  const address = `127.0.0.1:${server.port}`;
  const api = new AgentApi({ tls: TEST_CLIENT_TLS, address });
  cleanups.push(async () => {
    api.close();
    await ipam.stop();
    await server.stop();
    await informers.stop();
    await ts.close();
  });
  return { ts, address, api };
}

async function agent(address: string, name: string, extra: Partial<NodeAgentOptions> & { clock?: Clock } = {}): Promise<NodeAgent> {
  const host = new FakeHost();
  const stateDir = await mkdtemp(join(tmpdir(), 'skiff-net-'));
  const a = new NodeAgent({ tls: TEST_CLIENT_TLS, serving: TEST_AGENT_SERVING,
    nodeName: name, controlPlane: address, runtime: new FakeRuntime({ host, nodeName: name }), stateDir,
    listen: '', log: quiet, heartbeatMs: 200, apiTimeoutMs: 2000, ...extra,
  });
  cleanups.push(async () => {
    await a.stop();
    host.shutdown();
    await rm(stateDir, { recursive: true, force: true });
  });
  await a.start();
  return a;
}

const pod = (name: string, nodeName: string): Pod =>
  fromManifest({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'skiff/hello:1' }] },
  }).object as Pod;

async function podIP(api: AgentApi, name: string): Promise<string> {
  await until(async () => (await api.get('Pod', 'default', name)).status?.phase === 'Running', 15_000, `${name} Running`);
  return (await api.get('Pod', 'default', name)).status?.podIP ?? '';
}

describe('agent without --pod-cidr', () => {
  it('waits for its range, says the cluster is full, and runs pods in the range it is given', async () => {
    // One /24 in the whole cluster: the second node has to wait for the first to go.
    const { address, api } = await startCluster('10.247.0.0/24', 24);
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const first = await agent(address, 'first', { nodeIP: '192.0.2.1' });
    await until(async () => (await api.get('Node', '', 'first')).spec?.podCIDR === '10.247.0.0/24', 10_000, 'first gets the range');
    await api.create('Pod', pod('a', 'first'));
    expect(await podIP(api, 'a')).toMatch(/^10\.247\.0\.\d+$/);

    const clock = new ManualClock();
    const second = await agent(address, 'second', { nodeIP: '192.0.2.2', clock, log });
    expect(lines.some((l) => l.includes('waiting for the control plane to give this node a pod CIDR'))).toBe(true);
    await api.create('Pod', pod('b', 'second'));
    const full = async (): Promise<boolean> => {
      const ev = await api.list('Event', { namespace: 'default', fieldSelector: 'involvedObject.name=second,reason=CIDRNotAvailable' });
      return ev.items.length > 0;
    };
    await until(full, 10_000, 'CIDRNotAvailable event on second');
    clock.advance(30_000);
    await until(() => lines.some((l) => l.includes('the cluster has no pod range for this node')), 10_000, 'agent says the cluster is full');
    expect(lines.find((l) => l.includes('the cluster has no pod range'))).toMatch(/no free \/24 range left in the cluster CIDR 10\.247\.0\.0\/24/);
    expect((await api.get('Pod', 'default', 'b')).status?.phase ?? 'Pending').toBe('Pending');
    // NotReady while it has no pod network, so the scheduler sends nothing there.
    const ready = async (n: string) => (await api.get('Node', '', n)).status?.conditions.find((c) => c.type === 'Ready');
    expect(await ready('second')).toMatchObject({ status: 'False', message: expect.stringContaining('waiting for this node\'s pod CIDR') as unknown });

    // The first node goes away: its range is the second's, and the waiting pod runs in it.
    // Its agent stops first, or it would register the Node again.
    await first.stop();
    await api.delete({ kind: 'Pod', namespace: 'default', name: 'a', gracePeriodSeconds: 0 });
    await api.delete({ kind: 'Node', namespace: '', name: 'first' });
    await until(async () => (await api.get('Node', '', 'second')).spec?.podCIDR === '10.247.0.0/24', 10_000, 'second gets the freed range');
    const ip = await podIP(api, 'b');
    await until(async () => (await ready('second'))?.status === 'True', 10_000, 'second Ready once it has a range');
    expect(containsAddress(mustParseCidr('10.247.0.0/24'), parseIPv4(ip)!)).toBe(true);
    expect(lines.some((l) => l.includes("this node's pod CIDR, from the control plane"))).toBe(true);

    // Restarted without --pod-cidr, the agent takes the range its Node already has: no wait.
    await second.stop();
    const again: string[] = [];
    const restarted = await agent(address, 'second', { nodeIP: '192.0.2.2', log: pino({ level: 'info' }, { write: (l: string) => void again.push(l) }) });
    expect(again.some((l) => l.includes('waiting for the control plane'))).toBe(false);
    expect((await ready('second'))?.status).toBe('True');
    expect(restarted.nodeName).toBe('second');
  });
});

describe.skipIf(!root)('agents with routes, each in its own network namespace (needs root)', () => {
  it('route to each other\'s pod range via the InternalIP, and drop it when the Node goes', async () => {
    const suffix = randomBytes(3).toString('hex');
    const nsA = `skiff-na-${suffix}`;
    const nsB = `skiff-nb-${suffix}`;
    const host = commandExec();
    const inNs = (n: string): Exec => commandExec(['nsenter', `--net=/var/run/netns/${n}`]);
    for (const n of [nsA, nsB]) {
      await host(['ip', 'netns', 'add', n]);
      cleanups.push(() => host(['ip', 'netns', 'del', n]).then(() => undefined));
    }
    await host(['ip', '-n', nsA, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan0', 'netns', nsB]);
    for (const [n, ip] of [[nsA, '192.168.78.1/24'], [nsB, '192.168.78.2/24']] as const) {
      await host(['ip', '-n', n, 'addr', 'add', ip, 'dev', 'lan0']);
      await host(['ip', '-n', n, 'link', 'set', 'lan0', 'up']);
    }
    const routes = async (n: string): Promise<string[]> =>
      (JSON.parse((await inNs(n)(['ip', '-4', '-json', 'route', 'show', 'proto', '157'])) || '[]') as { dst: string; gateway: string }[])
        .map((r) => `${r.dst} via ${r.gateway}`);

    const { address, api } = await startCluster('10.248.0.0/16', 24);
    const net = (n: string): Partial<NodeAgentOptions> => ({ clusterCIDR: '10.248.0.0/16', netExec: inNs(n) });
    const a = await agent(address, 'na', { nodeIP: '192.168.78.1', ...net(nsA) });
    const b = await agent(address, 'nb', { nodeIP: '192.168.78.2', ...net(nsB) });
    const cidr = async (n: string): Promise<string> => (await api.get('Node', '', n)).spec?.podCIDR ?? '';
    await until(async () => (await cidr('na')) !== '' && (await cidr('nb')) !== '', 10_000, 'both nodes get ranges');
    const [ca, cb] = [await cidr('na'), await cidr('nb')];
    expect(ca).not.toBe(cb);
    await until(async () => (await routes(nsA)).length === 1 && (await routes(nsB)).length === 1, 10_000, 'routes in both namespaces');
    expect(await routes(nsA)).toEqual([`${cb} via 192.168.78.2`]);
    expect(await routes(nsB)).toEqual([`${ca} via 192.168.78.1`]);
    expect(await inNs(nsA)(['nft', 'list', 'table', 'ip', 'skiff-nat'])).toContain('ip saddr 10.248.0.0/16 ip daddr != 10.248.0.0/16');

    await api.create('Pod', pod('p', 'nb'));
    expect(containsAddress(mustParseCidr(cb), parseIPv4(await podIP(api, 'p'))!)).toBe(true);

    // nb goes: na drops its route; na's own routes and table stay until an operator cleans up.
    await b.stop();
    await b.routes?.cleanup();
    await api.delete({ kind: 'Pod', namespace: 'default', name: 'p', gracePeriodSeconds: 0 });
    await api.delete({ kind: 'Node', namespace: '', name: 'nb' });
    await until(async () => (await routes(nsA)).length === 0, 10_000, 'route to the deleted node removed');
    await a.stop();
    await a.routes?.cleanup();
    expect((await inNs(nsA)(['nft', 'list', 'tables'])).trim()).toBe('');
  });
});
