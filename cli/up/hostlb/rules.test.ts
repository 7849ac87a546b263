import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Service } from '../../../proto/gen/skiff/v1/core.js';
import { forwardsOf, hostLbRuleset, hostLbTable } from './rules.js';

const run = promisify(execFile);

function svc(name: string, type: string, ports: [number, string][], ingress: string[] = []): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: 'p' } as Service['metadata'],
    spec: { type, ports: ports.map(([port, protocol]) => ({ name: '', protocol, port, nodePort: 0 })) } as unknown as Service['spec'],
    status: { loadBalancer: { ingress: ingress.map((ip) => ({ ip, hostname: '' })) } } as Service['status'],
  };
}

const nodes = ['10.9.8.13', '10.9.8.11', '10.9.8.12'];

describe('forwardsOf', () => {
  it('takes LoadBalancer ports only, to the ingress nodes, else every node', () => {
    const f = forwardsOf([
      svc('web', 'LoadBalancer', [[8080, 'TCP'], [53, 'UDP']], ['10.9.8.12', '10.9.8.11']),
      svc('db', 'ClusterIP', [[6379, 'TCP']]),
      svc('np', 'NodePort', [[9000, 'TCP']]),
      svc('fresh', 'LoadBalancer', [[7000, '']]),
    ], nodes);
    expect(f).toEqual([
      { protocol: 'udp', port: 53, targets: ['10.9.8.11', '10.9.8.12'] },
      { protocol: 'tcp', port: 7000, targets: ['10.9.8.11', '10.9.8.12', '10.9.8.13'] },
      { protocol: 'tcp', port: 8080, targets: ['10.9.8.11', '10.9.8.12'] },
    ]);
  });

  it('ignores ingress addresses that are not LAN nodes, SCTP, and a second Service on a taken port', () => {
    const f = forwardsOf([
      svc('a', 'LoadBalancer', [[80, 'TCP']], ['192.0.2.1', '10.9.8.13']),
      svc('b', 'LoadBalancer', [[80, 'TCP'], [81, 'SCTP']], ['10.9.8.11']),
    ], nodes);
    expect(f).toEqual([{ protocol: 'tcp', port: 80, targets: ['10.9.8.13'] }]);
  });

  it('no nodes: nothing to forward to', () => {
    expect(forwardsOf([svc('a', 'LoadBalancer', [[80, 'TCP']])], [])).toEqual([]);
  });
});

describe('hostLbRuleset', () => {
  it('DNATs loopback traffic to the nodes (numgen for several) and masquerades it onto the bridge', () => {
    const text = hostLbRuleset('t_hostlb', 'tst-lan', [
      { protocol: 'tcp', port: 8080, targets: ['10.9.8.11', '10.9.8.12'] },
      { protocol: 'udp', port: 53, targets: ['10.9.8.11'] },
    ]);
    expect(text).toContain('ip daddr 127.0.0.1 tcp dport 8080 dnat to numgen inc mod 2 map { 0 : 10.9.8.11, 1 : 10.9.8.12 }');
    expect(text).toContain('ip daddr 127.0.0.1 udp dport 53 dnat to 10.9.8.11\n');
    expect(text).toContain('oifname "tst-lan" ip saddr 127.0.0.0/8 masquerade');
    // Replaced as a whole: created, deleted, written.
    expect(text.indexOf('delete table ip t_hostlb')).toBeLessThan(text.indexOf('table ip t_hostlb {\n'));
  });

  it('is a script real nft accepts (checked with nft -c, nothing applied)', async () => {
    const table = hostLbTable(`t${randomBytes(3).toString('hex')}`);
    const text = hostLbRuleset(table, 'tst-lan', [
      { protocol: 'tcp', port: 8080, targets: ['10.9.8.11', '10.9.8.12', '10.9.8.13'] },
      { protocol: 'udp', port: 5353, targets: ['10.9.8.11'] },
    ]);
    const check = promisify((cb: (e: Error | null, out: string) => void) => {
      const p = execFile('nft', ['-c', '-f', '-'], (e, out, err) => cb(e ? new Error(`${e.message}: ${err}`) : null, out));
      p.stdin?.end(text);
    });
    await expect(check()).resolves.toBeDefined();
    // And nothing was made.
    await expect(run('nft', ['list', 'table', 'ip', table])).rejects.toThrow();
  });
});
