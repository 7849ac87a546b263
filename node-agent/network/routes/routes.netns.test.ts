// The kernel side for real, in network namespaces this test makes (two "nodes" on a LAN, a
// pod behind node A and an "outside" host): each node's reconciler installs a route to the
// other's pod range tagged with Skiff's protocol, leaves other routes alone, follows Node
// changes, repairs a deleted route, and the masquerade table NATs only traffic leaving the
// cluster CIDR. Packets are UDP datagrams between these namespaces only; counters in nft
// tables of the receivers show which source address arrived.
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realClock } from '../../../proto/api/clock.js';
import { Node } from '../../../proto/gen/skiff/v1/core.js';
import { until } from '../../../test/helpers/wait.js';
import { commandExec, type Exec } from '../exec.js';
import { RouteReconciler } from './reconciler.js';
import { IpRouteTable, SKIFF_ROUTE_PROTOCOL } from './route-table.js';

const root = process.getuid?.() === 0;
const log = pino({ level: process.env.SKIFF_TEST_LOG ?? 'silent' });
const host = commandExec();
const suffix = randomBytes(3).toString('hex');
const ns = { a: `skiff-a-${suffix}`, b: `skiff-b-${suffix}`, pod: `skiff-p-${suffix}`, out: `skiff-o-${suffix}` };
const inNs = (name: string): Exec => commandExec(['nsenter', `--net=/var/run/netns/${name}`]);
const CLUSTER = '10.244.0.0/16';

function node(name: string, podCIDR: string, ip: string, ready = true): Node {
  return Node.fromPartial({
    metadata: { name },
    spec: { podCIDR, podCIDRs: [podCIDR] },
    status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
}

async function routes(name: string, proto = String(SKIFF_ROUTE_PROTOCOL)): Promise<string[]> {
  const out = await inNs(name)(['ip', '-4', '-json', 'route', 'show', 'proto', proto]);
  return (JSON.parse(out || '[]') as { dst: string; gateway?: string }[]).map((r) => `${r.dst} via ${r.gateway ?? '-'}`).sort();
}

/** Sends one UDP datagram from a namespace (node's own dgram, run there through nsenter). */
async function sendUdp(from: string, to: string): Promise<void> {
  const js = `const s=require('dgram').createSocket('udp4');s.send('skiff',9,'${to}',(e)=>{s.close();process.exit(e?1:0)})`;
  await inNs(from)([process.execPath, '-e', js]);
}

/** Packets counted in a namespace's observation table, by source address. */
async function seen(name: string): Promise<Record<string, number>> {
  const out = await inNs(name)(['nft', 'list', 'table', 'ip', 'obs']);
  const res: Record<string, number> = {};
  for (const m of out.matchAll(/ip saddr (\S+) counter packets (\d+)/g)) res[m[1]!] = Number(m[2]);
  return res;
}

const observe = (addrs: string[]): string =>
  `table ip obs {\n chain in {\n  type filter hook input priority 0; policy accept;\n${addrs.map((a) => `  ip saddr ${a} counter\n`).join('')} }\n}\n`;

describe.skipIf(!root)('host-gw routes and masquerade in network namespaces (needs root)', () => {
  let ra: RouteReconciler;
  let rb: RouteReconciler;
  const nodeA = node('n-a', '10.244.0.0/24', '192.168.77.1');
  const nodeB = node('n-b', '10.244.1.0/24', '192.168.77.2');

  beforeAll(async () => {
    for (const n of Object.values(ns)) await host(['ip', 'netns', 'add', n]);
    const sh = async (n: string, ...cmds: string[][]): Promise<void> => {
      for (const c of cmds) await host(['ip', '-n', n, ...c]);
    };
    // LAN between the nodes; the pod and the outside host hang off node A.
    await host(['ip', '-n', ns.a, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan0', 'netns', ns.b]);
    await host(['ip', '-n', ns.a, 'link', 'add', 'pod0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.pod]);
    await host(['ip', '-n', ns.a, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.out]);
    await sh(ns.a, ['addr', 'add', '192.168.77.1/24', 'dev', 'lan0'], ['addr', 'add', '10.244.0.1/24', 'dev', 'pod0'],
      ['addr', 'add', '198.51.100.1/24', 'dev', 'up0'], ['link', 'set', 'lan0', 'up'], ['link', 'set', 'pod0', 'up'], ['link', 'set', 'up0', 'up'],
      ['link', 'set', 'lo', 'up'],
      // Someone else's route: must survive every pass and the cleanup.
      ['route', 'add', '10.99.0.0/24', 'via', '192.168.77.9']);
    await sh(ns.b, ['addr', 'add', '192.168.77.2/24', 'dev', 'lan0'], ['link', 'set', 'lan0', 'up'], ['link', 'set', 'lo', 'up'],
      ['link', 'add', 'cbr0', 'type', 'bridge'], ['addr', 'add', '10.244.1.1/24', 'dev', 'cbr0'], ['link', 'set', 'cbr0', 'up']);
    await sh(ns.pod, ['addr', 'add', '10.244.0.2/24', 'dev', 'eth0'], ['link', 'set', 'eth0', 'up'], ['link', 'set', 'lo', 'up'],
      ['route', 'add', 'default', 'via', '10.244.0.1']);
    await sh(ns.out, ['addr', 'add', '198.51.100.2/24', 'dev', 'eth0'], ['link', 'set', 'eth0', 'up']);
    await inNs(ns.a)(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    await inNs(ns.b)(['nft', '-f', '-'], observe(['10.244.0.2', '192.168.77.1']));
    await inNs(ns.out)(['nft', '-f', '-'], observe(['10.244.0.2', '198.51.100.1']));

    const mk = (self: string, name: string): RouteReconciler =>
      new RouteReconciler({
        nodeName: self, table: new IpRouteTable(inNs(name)), exec: inNs(name), clusterCIDR: CLUSTER,
        clock: realClock, log, resyncMs: 200,
      });
    ra = mk('n-a', ns.a);
    rb = mk('n-b', ns.b);
  });

  afterAll(async () => {
    await ra?.stop();
    await rb?.stop();
    for (const n of Object.values(ns)) await host(['ip', 'netns', 'del', n]).catch(() => undefined);
  });

  it('routes each node to the other\'s pods without NAT and masquerades traffic leaving the cluster', async () => {
    ra.setNodes([nodeA, nodeB]);
    rb.setNodes([nodeA, nodeB]);
    await ra.idle();
    await rb.idle();
    expect(ra.failures).toBe(0);
    expect(await routes(ns.a)).toEqual(['10.244.1.0/24 via 192.168.77.2']);
    expect(await routes(ns.b)).toEqual(['10.244.0.0/24 via 192.168.77.1']);
    expect(await routes(ns.a, 'boot')).toEqual(['10.99.0.0/24 via 192.168.77.9']);

    // Pod on A -> B's pod range: arrives with the pod's own address.
    await sendUdp(ns.pod, '10.244.1.1');
    await until(async () => (await seen(ns.b))['10.244.0.2'] === 1, 5_000, 'datagram at node B');
    expect((await seen(ns.b))['192.168.77.1']).toBe(0);
    // Pod on A -> outside the cluster CIDR: masqueraded to A's address on that link.
    await sendUdp(ns.pod, '198.51.100.2');
    await until(async () => (await seen(ns.out))['198.51.100.1'] === 1, 5_000, 'datagram outside');
    expect((await seen(ns.out))['10.244.0.2']).toBe(0);

    // Loaded again and again (every resync): still exactly one table.
    await until(() => ra.passes > 3, 5_000, 'resync passes');
    const tables = await inNs(ns.a)(['nft', 'list', 'tables']);
    expect(tables.trim().split('\n')).toEqual(['table ip skiff-nat']);
  });

  it('follows Node changes and repairs a route someone removed', async () => {
    ra.upsert(node('n-b', '10.244.1.0/24', '192.168.77.2', false));
    await until(async () => (await routes(ns.a)).length === 0, 5_000, 'route of a NotReady node removed');
    ra.upsert(node('n-b', '10.244.1.0/24', '192.168.77.22'));
    ra.upsert(node('n-c', '10.244.2.0/24', '192.168.77.3'));
    await until(async () => (await routes(ns.a)).length === 2, 5_000, 'routes of n-b (moved) and n-c');
    expect(await routes(ns.a)).toEqual(['10.244.1.0/24 via 192.168.77.22', '10.244.2.0/24 via 192.168.77.3']);

    await inNs(ns.a)(['ip', 'route', 'del', '10.244.2.0/24']);
    await until(async () => (await routes(ns.a)).length === 2, 5_000, 'removed route put back by the resync');

    ra.remove(node('n-c', '', ''));
    await until(async () => (await routes(ns.a)).length === 1, 5_000, 'route of a deleted node removed');
    expect(await routes(ns.a, 'boot')).toEqual(['10.99.0.0/24 via 192.168.77.9']);
  });

  it('cleans up its own routes and table only', async () => {
    await ra.cleanup();
    expect(await routes(ns.a)).toEqual([]);
    expect(await routes(ns.a, 'boot')).toEqual(['10.99.0.0/24 via 192.168.77.9']);
    expect((await inNs(ns.a)(['nft', 'list', 'tables'])).trim()).toBe('');
  });
});
