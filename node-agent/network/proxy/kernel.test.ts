// The proxy against the real kernel: two network namespaces joined by a veth, a "node" (client)
// namespace holding the proxy's table, and a "pod" (server) namespace answering on two ports.
// Traffic never leaves the namespaces this test made.
import { Writable } from 'node:stream';
import type { ChildProcess } from 'node:child_process';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNetns, deleteNetns, inNetns, netnsUnavailable, nodeIn, run, uniqueName, vethBetween } from '../../../test/helpers/netns.js';
import { until } from '../../../test/helpers/wait.js';
import type { ServiceSnapshot } from '../snapshot.js';
import { nftRunner } from './nft.js';
import { Proxier } from './proxier.js';
import { buildRuleset } from './ruleset.js';
import { ep, snapshot, svc } from './testdata.js';
import { fullTransaction } from './transaction.js';

const skip = netnsUnavailable();
const NODE = '10.244.7.1';
const POD = '10.244.7.2';

const SERVER = `
import net from 'node:net';
import dgram from 'node:dgram';
const listen = (p) => new Promise((r) => net.createServer((s) => s.end('port ' + p + '\\n')).listen(p, '${POD}', r));
await Promise.all([listen(8080), listen(8081)]);
const u = dgram.createSocket('udp4');
u.on('message', (m, r) => u.send('udp ' + m, r.port, r.address));
u.bind(5353, '${POD}', () => console.log('ready'));
`;

// Makes the connections listed in its last argument; prints what each got (reply or error code).
const CLIENT = `
import net from 'node:net';
import dgram from 'node:dgram';
const tcp = ({ host, port }) => new Promise((resolve) => {
  const s = net.connect({ host, port });
  let data = '';
  const t = setTimeout(() => { s.destroy(); resolve('ETIMEDOUT'); }, 1500);
  s.on('data', (d) => (data += d));
  s.on('end', () => { clearTimeout(t); resolve(data.trim()); });
  s.on('error', (e) => { clearTimeout(t); resolve(e.code); });
});
const udp = ({ host, port }) => new Promise((resolve) => {
  const s = dgram.createSocket('udp4');
  const done = (v) => { clearTimeout(t); s.close(); resolve(v); };
  const t = setTimeout(() => done('ETIMEDOUT'), 1500);
  s.on('message', (m) => done(m.toString()));
  s.on('error', (e) => done(e.code));
  s.send('ping', port, host);
});
const out = [];
for (const c of JSON.parse(process.argv.at(-1))) {
  for (let i = 0; i < (c.count ?? 1); i++) out.push(await (c.udp ? udp(c) : tcp(c)));
}
console.log(JSON.stringify(out));
`;

interface Conn { host: string; port: number; count?: number; udp?: boolean }

describe.skipIf(skip)('node proxy on real nftables', () => {
  const nodeNs = uniqueName('skn');
  const podNs = uniqueName('skp');
  const table = uniqueName('skiff-test-');
  const logs: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write(chunk: Buffer, _e, cb) { logs.push(chunk.toString()); cb(); } }));
  let server: ChildProcess | undefined;
  let proxier: Proxier;

  const connect = async (conns: Conn[]): Promise<string[]> =>
    JSON.parse(await run(inNetns(nodeNs, [process.execPath, '--input-type=module', '-e', CLIENT, JSON.stringify(conns)]))) as string[];

  const base = (): ServiceSnapshot => snapshot([
    svc('shop', 'web', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 }] }),
    svc('shop', 'sticky', { clusterIP: '10.96.0.11', sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 300 }),
    svc('shop', 'empty', { type: 'NodePort', clusterIP: '10.96.0.12', ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30081 }] }),
    svc('shop', 'dns', { clusterIP: '10.96.0.13', ports: [{ name: 'dns', protocol: 'UDP', port: 53 }] }),
    svc('shop', 'lb', { type: 'LoadBalancer', clusterIP: '10.96.0.14', ports: [{ name: 'http', protocol: 'TCP', port: 18080, nodePort: 30082 }] }),
  ], {
    'shop/lb:http': [ep(POD, 8080), ep(POD, 8081)],
    'shop/web:http': [ep(POD, 8080), ep(POD, 8081)],
    'shop/sticky:http': [ep(POD, 8080), ep(POD, 8081)],
    'shop/empty:http': [ep(POD, 8080, { ready: false, serving: false })],
    'shop/dns:dns': [ep(POD, 5353)],
  });

  beforeAll(async () => {
    await addNetns(nodeNs);
    await addNetns(podNs);
    await vethBetween({ ns: nodeNs, addr: `${NODE}/24` }, { ns: podNs, addr: `${POD}/24` });
    // Anything the proxy does not rewrite would now head for the pod namespace (and vanish
    // there): the safety rule must refuse it before it leaves.
    await run(inNetns(nodeNs, ['ip', 'route', 'add', 'default', 'via', POD]));
    server = await nodeIn(podNs, SERVER);
    proxier = new Proxier({
      table, serviceCIDR: '10.96.0.0/16', clusterCIDR: '10.244.0.0/16', log,
      runner: nftRunner({ prefix: inNetns(nodeNs, []) }), debounceMs: 20, minSyncIntervalMs: 20, retryMs: 100,
    });
    proxier.update(base(), 1);
    await proxier.start();
  });

  afterAll(async () => {
    await proxier?.stop();
    server?.kill();
    await deleteNetns(nodeNs);
    await deleteNetns(podNs);
  });

  it('a full transaction loads with nft -f and lists the maps', async () => {
    const listed = await run(inNetns(nodeNs, ['nft', 'list', 'table', 'ip', table]));
    for (const m of ['map service-ips', 'map service-nodeports', 'map no-endpoint-services', 'map no-endpoint-nodeports', 'set cluster-ips']) {
      expect(listed).toContain(m);
    }
    expect(listed).toMatch(/10\.96\.0\.10 \. tcp \. 80 : goto service-\S+-shop\/web\/tcp\/http/);
    expect(proxier.programmedGeneration).toBe(1);
    // The same text loads twice in a row: the add/delete/add form replaces, never collides.
    const text = fullTransaction(buildRuleset(base(), { table, serviceCIDR: '10.96.0.0/16' }));
    await run(inNetns(nodeNs, ['nft', '-f', '-']), text);
    await run(inNetns(nodeNs, ['nft', '-f', '-']), text);
    await proxier.syncNow();
  });

  it('a ClusterIP spreads connections over both endpoints; NodePorts answer on 127.0.0.1 and the node address', async () => {
    const got = await connect([{ host: '10.96.0.10', port: 80, count: 24 }]);
    expect(new Set(got)).toEqual(new Set(['port 8080', 'port 8081']));
    const np = await connect([{ host: '127.0.0.1', port: 30080, count: 4 }, { host: NODE, port: 30080, count: 4 }]);
    for (const r of np) expect(r).toMatch(/^port 808[01]$/);
  });

  it('a LoadBalancer answers on its own port and its node port on 127.0.0.1 and the node address', async () => {
    const got = await connect([
      { host: '127.0.0.1', port: 18080, count: 8 }, { host: NODE, port: 18080, count: 8 },
      { host: '127.0.0.1', port: 30082, count: 2 }, { host: '10.96.0.14', port: 18080, count: 2 },
    ]);
    expect(got).toHaveLength(20);
    for (const r of got) expect(r).toMatch(/^port 808[01]$/);
    expect(new Set(got.slice(0, 16))).toEqual(new Set(['port 8080', 'port 8081']));
  });

  it('ClientIP affinity keeps one client on one endpoint', async () => {
    const got = await connect([{ host: '10.96.0.11', port: 80, count: 12 }]);
    expect(new Set(got).size).toBe(1);
    expect(got[0]).toMatch(/^port 808[01]$/);
  });

  it('UDP is DNATed too', async () => {
    expect(await connect([{ host: '10.96.0.13', port: 53, udp: true }])).toEqual(['udp ping']);
  });

  it('refuses a service without endpoints, a wrong port, and an unallocated service address', async () => {
    expect(await connect([
      { host: '10.96.0.12', port: 80 },
      { host: '127.0.0.1', port: 30081 },
      { host: '10.96.0.10', port: 81 },
      { host: '10.96.0.99', port: 80 },
    ])).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
  });

  it('partial syncs follow endpoint and service changes', async () => {
    const s = base();
    const endpoints = new Map(s.endpoints);
    endpoints.set('shop/web:http', [ep(POD, 8081)]);
    endpoints.set('shop/empty:http', [ep(POD, 8080)]);
    proxier.update({ services: s.services.filter((x) => x.name !== 'dns'), endpoints }, 2);
    await until(() => proxier.programmedGeneration === 2, 5000, 'generation 2 programmed');
    const got = await connect([{ host: '10.96.0.10', port: 80, count: 8 }, { host: '10.96.0.12', port: 80 }, { host: '10.96.0.13', port: 53, udp: true }]);
    expect(got.slice(0, 8)).toEqual(Array(8).fill('port 8081'));
    expect(got[8]).toBe('port 8080');
    // The deleted UDP service: nothing answers (the packet is refused on the node, not sent).
    expect(got[9]).not.toBe('udp ping');
  });

  it('a table removed behind its back is re-created by a full resync after the failed partial one', async () => {
    await run(inNetns(nodeNs, ['nft', 'delete', 'table', 'ip', table]));
    proxier.update(base(), 3);
    await until(() => proxier.programmedGeneration === 3, 5000, 'generation 3 programmed after a resync');
    expect(logs.some((l) => l.includes('nftables sync failed'))).toBe(true);
    expect(await connect([{ host: '10.96.0.13', port: 53, udp: true }])).toEqual(['udp ping']);
  });

  it('cleanup deletes the table', async () => {
    await proxier.cleanup();
    expect(await nftRunner({ prefix: inNetns(nodeNs, []) }).listTable(table)).toBeUndefined();
  });
});

describe.skipIf(!skip)('node proxy on real nftables (skipped)', () => {
  it.skip(`skipped: ${skip}`, () => undefined);
});
