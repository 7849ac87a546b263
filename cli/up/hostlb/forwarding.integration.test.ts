// The host-lb rules on a real kernel: a "host" namespace with a bridge, two "node" namespaces
// on it answering HTTP on their LAN address, and the generated table in the host namespace.
// A client there reaches 127.0.0.1:PORT, is spread over both nodes, and arrives from the
// bridge's address (masqueraded). Everything lives in namespaces this test makes and deletes.
import type { ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNetns, deleteNetns, inNetns, netnsUnavailable, nodeIn, run, uniqueName } from '../../../test/helpers/netns.js';
import { forwardsOf, hostLbRuleset, hostLbTable } from './rules.js';
import type { Service } from '../../../proto/gen/skiff/v1/core.js';

const skip = netnsUnavailable();
const host = uniqueName('hlh');
const nodes = [uniqueName('hln'), uniqueName('hln')];
const bridge = uniqueName('hlb');
const net = `10.77.${randomInt(0, 256)}`;
const hostAddr = `${net}.1`;
const addrs = nodes.map((_, i) => `${net}.${11 + i}`);
const port = randomInt(20000, 29000);
const servers: ChildProcess[] = [];

beforeAll(async () => {
  if (skip) return;
  await addNetns(host);
  const inHost = (argv: string[]): Promise<string> => run(inNetns(host, argv));
  await inHost(['ip', 'link', 'add', bridge, 'type', 'bridge']);
  await inHost(['ip', 'addr', 'add', `${hostAddr}/24`, 'dev', bridge]);
  await inHost(['ip', 'link', 'set', bridge, 'up']);
  for (const [i, ns] of nodes.entries()) {
    await addNetns(ns);
    const veth = uniqueName('hlv');
    await run(['ip', 'link', 'add', veth, 'netns', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await inHost(['ip', 'link', 'set', veth, 'master', bridge, 'up']);
    await run(inNetns(ns, ['ip', 'addr', 'add', `${addrs[i]!}/24`, 'dev', 'eth0']));
    await run(inNetns(ns, ['ip', 'link', 'set', 'eth0', 'up']));
    servers.push(await nodeIn(ns, `import { createServer } from 'node:http';
createServer((req, res) => res.end(JSON.stringify({ node: ${JSON.stringify(ns)}, from: req.socket.remoteAddress }))).listen(${port}, ${JSON.stringify(addrs[i])}, () => console.log('ready'));`));
  }
}, 60_000);

afterAll(async () => {
  for (const s of servers) s.kill();
  for (const ns of [...nodes, host]) await deleteNetns(ns);
});

describe.skipIf(skip !== undefined)('host-lb rules on a real kernel', () => {
  it('127.0.0.1:PORT in the host reaches both nodes, from the bridge address', async () => {
    const svc = {
      apiVersion: 'v1', kind: 'Service', metadata: undefined,
      spec: { type: 'LoadBalancer', ports: [{ name: '', protocol: 'TCP', port, nodePort: 0 }] },
      status: { loadBalancer: { ingress: addrs.map((ip) => ({ ip, hostname: '' })) } },
    } as unknown as Service;
    const script = hostLbRuleset(hostLbTable('hltest'), bridge, forwardsOf([svc], addrs));
    await run(inNetns(host, ['sysctl', '-q', '-w', `net.ipv4.conf.${bridge}.route_localnet=1`]));
    await run(inNetns(host, ['nft', '-f', '-']), script);
    const out = await run(inNetns(host, [process.execPath, '--input-type=module', '-e', `
const seen = [];
for (let i = 0; i < 10; i++) {
  const r = await fetch('http://127.0.0.1:${port}/', { signal: AbortSignal.timeout(3000) });
  seen.push(await r.json());
}
console.log(JSON.stringify(seen));`]));
    const seen = JSON.parse(out) as { node: string; from: string }[];
    expect(seen).toHaveLength(10);
    expect(new Set(seen.map((s) => s.node))).toEqual(new Set(nodes));
    expect(new Set(seen.map((s) => s.from.replace(/^::ffff:/, '')))).toEqual(new Set([hostAddr]));
    // Rewritten with nothing to forward: the port no longer answers.
    await run(inNetns(host, ['nft', '-f', '-']), hostLbRuleset(hostLbTable('hltest'), bridge, []));
    await expect(run(inNetns(host, [process.execPath, '--input-type=module', '-e',
      `await fetch('http://127.0.0.1:${port}/', { signal: AbortSignal.timeout(2000) });`]))).rejects.toThrow();
  }, 60_000);
});
