import { describe, expect, it } from 'vitest';
import { DnsPolicyError, podDnsConfig, type NodeDns } from './pod-dns.js';
import { parseResolvConf } from './resolv-conf.js';

const host = parseResolvConf(`# generated
nameserver 192.0.2.53
nameserver 192.0.2.54 ; second
domain old.example
search corp.example lab.example
options edns0 ndots:1
`);
const node: NodeDns = { clusterDNS: '10.244.0.1', clusterDomain: 'cluster.local', host };

describe('parseResolvConf', () => {
  it('reads nameservers, the last search/domain line, and options; skips comments', () => {
    expect(host).toEqual({ nameservers: ['192.0.2.53', '192.0.2.54'], searches: ['corp.example', 'lab.example'], options: ['edns0', 'ndots:1'] });
  });
});

describe('podDnsConfig', () => {
  it('ClusterFirst (and the empty default): cluster DNS, cluster search list then the host one, ndots:5', () => {
    const want = {
      servers: ['10.244.0.1'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example'],
      options: ['ndots:5'],
    };
    expect(podDnsConfig({ dnsPolicy: 'ClusterFirst', hostNetwork: false, namespace: 'shop' }, node)).toEqual(want);
    expect(podDnsConfig({ dnsPolicy: '', hostNetwork: false, namespace: 'shop' }, node)).toEqual(want);
  });

  it('ClusterFirst with hostNetwork falls back to Default; ClusterFirstWithHostNet does not', () => {
    expect(podDnsConfig({ dnsPolicy: 'ClusterFirst', hostNetwork: true, namespace: 'shop' }, node))
      .toEqual({ servers: ['192.0.2.53', '192.0.2.54'], searches: ['corp.example', 'lab.example'], options: ['edns0', 'ndots:1'] });
    expect(podDnsConfig({ dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true, namespace: 'shop' }, node).servers).toEqual(['10.244.0.1']);
  });

  it('Default: the node resolv.conf', () => {
    expect(podDnsConfig({ dnsPolicy: 'Default', hostNetwork: false, namespace: 'shop' }, node))
      .toEqual({ servers: ['192.0.2.53', '192.0.2.54'], searches: ['corp.example', 'lab.example'], options: ['edns0', 'ndots:1'] });
  });

  it('None: only dnsConfig; it needs a nameserver', () => {
    expect(podDnsConfig({ dnsPolicy: 'None', hostNetwork: false, namespace: 'shop', dnsConfig: { nameservers: ['1.1.1.1'], searches: ['x.example'], options: [{ name: 'ndots', value: '2' }, { name: 'rotate' }] } }, node))
      .toEqual({ servers: ['1.1.1.1'], searches: ['x.example'], options: ['ndots:2', 'rotate'] });
    expect(() => podDnsConfig({ dnsPolicy: 'None', hostNetwork: false, namespace: 'shop' }, node)).toThrow(DnsPolicyError);
    expect(() => podDnsConfig({ dnsPolicy: 'None', hostNetwork: false, namespace: 'shop' }, node)).toThrow(/spec\.dnsConfig\.nameservers/);
  });

  it('dnsConfig merges on top: servers appended (max 3), searches deduplicated, options replaced by name', () => {
    const c = podDnsConfig({ dnsPolicy: 'ClusterFirst', hostNetwork: false, namespace: 'shop', dnsConfig: {
      nameservers: ['10.0.0.2', '10.0.0.3', '10.0.0.4'], searches: ['cluster.local', 'extra.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
    } }, node);
    expect(c.servers).toEqual(['10.244.0.1', '10.0.0.2', '10.0.0.3']);
    expect(c.searches).toEqual(['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example', 'extra.example']);
    expect(c.options).toEqual(['ndots:2', 'edns0']);
  });

  it('search lists are cut to 32 entries', () => {
    const many = { ...node, host: { ...host, searches: Array.from({ length: 40 }, (_, i) => `d${i}.example`) } };
    expect(podDnsConfig({ dnsPolicy: 'ClusterFirst', hostNetwork: false, namespace: 'shop' }, many).searches).toHaveLength(32);
  });

  it('an unknown policy is an error naming the field', () => {
    expect(() => podDnsConfig({ dnsPolicy: 'Sometimes', hostNetwork: false, namespace: 'shop' }, node)).toThrow(/spec\.dnsPolicy: unsupported value "Sometimes"/);
  });
});
