import { describe, expect, it } from 'vitest';
import type { ServiceSnapshot } from '../snapshot.js';
import { endpointChainName, hash8, MAX_NAME, serviceChainName } from './names.js';
import { buildRuleset, type Ruleset } from './ruleset.js';
import { ep, snapshot, svc } from './testdata.js';

const opts = { table: 'skiff-test', serviceCIDR: '10.96.0.0/16', clusterCIDR: '10.244.0.0/16' };
const build = (s: ServiceSnapshot): Ruleset => buildRuleset(s, opts);
const chain = (rs: Ruleset, prefix: string): string[] => {
  const c = [...rs.chains.values()].filter((x) => x.name.startsWith(prefix));
  expect(c, `one chain starting with ${prefix}`).toHaveLength(1);
  return c[0]!.rules;
};
const elements = (rs: Ruleset, name: string): string[] => rs.sets.get(name)!.elements;
const chainsLike = (rs: Ruleset, prefix: string): string[] => [...rs.chains.keys()].filter((n) => n.startsWith(prefix)).sort();

describe('buildRuleset', () => {
  it('ClusterIP with two ready endpoints: service-ips entry, numgen over two endpoint chains that DNAT', () => {
    const rs = build(snapshot([svc('shop', 'web')], { 'shop/web:http': [ep('10.244.1.3', 8080), ep('10.244.1.2', 8080)] }));
    const svcChain = serviceChainName('shop/web/tcp/http');
    const e2 = endpointChainName('shop/web/tcp/http', '10.244.1.2', 8080);
    const e3 = endpointChainName('shop/web/tcp/http', '10.244.1.3', 8080);
    expect(elements(rs, 'service-ips')).toEqual([`10.96.0.10 . tcp . 80 : goto ${svcChain}`]);
    expect(rs.chains.get(svcChain)!.rules).toEqual([
      'ip daddr 10.96.0.10 ip saddr != 10.244.0.0/16 jump mark-for-masquerade',
      `numgen random mod 2 vmap { 0 : goto ${e2} , 1 : goto ${e3} }`,
    ]);
    expect(rs.chains.get(e2)!.rules).toEqual([
      'ip saddr 10.244.1.2 jump mark-for-masquerade',
      'meta l4proto tcp dnat to 10.244.1.2:8080',
    ]);
    expect(elements(rs, 'cluster-ips')).toEqual(['10.96.0.10']);
    expect(elements(rs, 'service-nodeports')).toEqual([]);
    expect(elements(rs, 'no-endpoint-services')).toEqual([]);
  });

  it('NodePort: service-nodeports entry to an external chain that marks for masquerade', () => {
    const rs = build(snapshot([svc('shop', 'web', { type: 'NodePort', ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 }] })],
      { 'shop/web:http': [ep('10.244.1.2', 8080)] }));
    const ext = chainsLike(rs, 'external-');
    expect(elements(rs, 'service-nodeports')).toEqual([`tcp . 30080 : goto ${ext[0]}`]);
    expect(chain(rs, 'external-')).toEqual(['jump mark-for-masquerade', `goto ${serviceChainName('shop/web/tcp/http')}`]);
    expect(rs.chains.get('services')!.rules).toContain('fib daddr type local meta l4proto . th dport vmap @service-nodeports');
  });

  it('LoadBalancer: its port and its nodePort on every local address, both through the external chain', () => {
    const rs = build(snapshot([svc('shop', 'web', { type: 'LoadBalancer', ports: [{ name: 'http', protocol: 'TCP', port: 18080, nodePort: 30080 }] })],
      { 'shop/web:http': [ep('10.244.1.2', 5000)] }));
    const ext = chainsLike(rs, 'external-');
    expect(ext).toHaveLength(1);
    expect(elements(rs, 'service-nodeports')).toEqual([`tcp . 30080 : goto ${ext[0]}`, `tcp . 18080 : goto ${ext[0]}`]);
    expect(elements(rs, 'service-ips')).toEqual([`10.96.0.10 . tcp . 18080 : goto ${serviceChainName('shop/web/tcp/http')}`]);
    expect(chain(rs, 'external-')).toEqual(['jump mark-for-masquerade', `goto ${serviceChainName('shop/web/tcp/http')}`]);
  });

  it('LoadBalancer without endpoints: its port and nodePort are rejected on local addresses', () => {
    const rs = build(snapshot([svc('shop', 'web', { type: 'LoadBalancer', ports: [{ name: 'http', protocol: 'UDP', port: 5353, nodePort: 30053 }] })]));
    expect(elements(rs, 'no-endpoint-nodeports')).toEqual(['udp . 30053 : goto reject-chain', 'udp . 5353 : goto reject-chain']);
    expect(elements(rs, 'service-nodeports')).toEqual([]);
  });

  it('two LoadBalancers asking for one port: the first (by namespace/name) keeps it', () => {
    const lb = (ns: string, ip: string) => svc(ns, 'web', { type: 'LoadBalancer', clusterIP: ip, ports: [{ name: 'http', protocol: 'TCP', port: 18080, nodePort: 0 }] });
    const rs = build(snapshot([lb('b', '10.96.0.11'), lb('a', '10.96.0.10')], { 'a/web:http': [ep('10.244.1.2', 80)], 'b/web:http': [ep('10.244.1.3', 80)] }));
    const nodeports = elements(rs, 'service-nodeports');
    expect(nodeports).toHaveLength(1);
    expect(nodeports[0]).toContain('a/web/tcp/http');
  });

  it('a nodePort on a ClusterIP service is ignored', () => {
    const rs = build(snapshot([svc('shop', 'web', { ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 }] })],
      { 'shop/web:http': [ep('10.244.1.2', 8080)] }));
    expect(elements(rs, 'service-nodeports')).toEqual([]);
    expect(chainsLike(rs, 'external-')).toEqual([]);
  });

  it('headless services get no rules', () => {
    const rs = build(snapshot([svc('shop', 'db', { clusterIP: 'None' })], { 'shop/db:http': [ep('10.244.1.2', 8080)] }));
    expect(elements(rs, 'service-ips')).toEqual([]);
    expect(elements(rs, 'cluster-ips')).toEqual([]);
    expect(chainsLike(rs, 'endpoint-')).toEqual([]);
  });

  it('no usable endpoints: reject through no-endpoint-services and no-endpoint-nodeports, no service chain', () => {
    const rs = build(snapshot([svc('shop', 'web', { type: 'NodePort', ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 }] })],
      { 'shop/web:http': [ep('10.244.1.2', 8080, { ready: false, serving: false })] }));
    expect(elements(rs, 'no-endpoint-services')).toEqual(['10.96.0.10 . tcp . 80 : goto reject-chain']);
    expect(elements(rs, 'no-endpoint-nodeports')).toEqual(['tcp . 30080 : goto reject-chain']);
    expect(elements(rs, 'service-ips')).toEqual([]);
    expect(elements(rs, 'cluster-ips')).toEqual(['10.96.0.10']);
    expect(chainsLike(rs, 'service-')).toEqual(['service-endpoints-check']);
    expect(rs.chains.get('reject-chain')!.rules).toEqual(['reject']);
  });

  it('ready endpoints only, while any is ready', () => {
    const rs = build(snapshot([svc('shop', 'web')], { 'shop/web:http': [
      ep('10.244.1.2', 8080),
      ep('10.244.1.3', 8080, { ready: false, serving: true, terminating: true }),
      ep('10.244.1.4', 8080, { ready: false, serving: false }),
    ] }));
    expect(chainsLike(rs, 'endpoint-')).toEqual([endpointChainName('shop/web/tcp/http', '10.244.1.2', 8080)]);
  });

  it('serving-terminating endpoints when none is ready; not-serving ones never', () => {
    const rs = build(snapshot([svc('shop', 'web')], { 'shop/web:http': [
      ep('10.244.1.3', 8080, { ready: false, serving: true, terminating: true }),
      ep('10.244.1.4', 8080, { ready: false, serving: false, terminating: true }),
      ep('10.244.1.5', 8080, { ready: false, serving: false, terminating: false }),
    ] }));
    expect(chainsLike(rs, 'endpoint-')).toEqual([endpointChainName('shop/web/tcp/http', '10.244.1.3', 8080)]);
    expect(elements(rs, 'no-endpoint-services')).toEqual([]);
  });

  it('ClientIP affinity: a dynamic set per endpoint, checked before numgen, updated in the endpoint chain', () => {
    const rs = build(snapshot([svc('shop', 'web', { sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 600 })],
      { 'shop/web:http': [ep('10.244.1.2', 8080), ep('10.244.1.3', 8080)] }));
    const sets = [...rs.sets.values()].filter((s) => s.name.startsWith('affinity-'));
    expect(sets).toHaveLength(2);
    for (const s of sets) {
      expect(s.spec).toBe('type ipv4_addr ; flags dynamic,timeout ; timeout 600s ;');
      expect(s.dynamic).toBe(true);
    }
    const rules = rs.chains.get(serviceChainName('shop/web/tcp/http'))!.rules;
    expect(rules[1]).toMatch(/^ip saddr @affinity-\S+__10\.244\.1\.2\/8080 goto endpoint-\S+__10\.244\.1\.2\/8080$/);
    expect(rules[2]).toMatch(/^ip saddr @affinity-\S+__10\.244\.1\.3\/8080 goto endpoint-\S+__10\.244\.1\.3\/8080$/);
    expect(rules[3]).toMatch(/^numgen random mod 2 vmap/);
    const e2 = rs.chains.get(endpointChainName('shop/web/tcp/http', '10.244.1.2', 8080))!.rules;
    expect(e2[1]).toMatch(/^update @affinity-\S+__10\.244\.1\.2\/8080 \{ ip saddr \}$/);
    expect(e2[2]).toBe('meta l4proto tcp dnat to 10.244.1.2:8080');
  });

  it('a changed affinity timeout makes a new set name', () => {
    const a = build(snapshot([svc('shop', 'web', { sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 600 })], { 'shop/web:http': [ep('10.244.1.2', 8080)] }));
    const b = build(snapshot([svc('shop', 'web', { sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 60 })], { 'shop/web:http': [ep('10.244.1.2', 8080)] }));
    const names = (rs: Ruleset) => [...rs.sets.keys()].filter((n) => n.startsWith('affinity-'));
    expect(names(a)).toHaveLength(1);
    expect(names(a)).not.toEqual(names(b));
  });

  it('UDP and TCP on the same port number are separate service ports', () => {
    const rs = build(snapshot([svc('kube-system', 'dns', { ports: [
      { name: 'dns', protocol: 'UDP', port: 53 }, { name: 'dns-tcp', protocol: 'TCP', port: 53 },
    ] })], { 'kube-system/dns:dns': [ep('10.244.1.2', 53)], 'kube-system/dns:dns-tcp': [ep('10.244.1.2', 5353)] }));
    expect(elements(rs, 'service-ips')).toEqual([
      `10.96.0.10 . udp . 53 : goto ${serviceChainName('kube-system/dns/udp/dns')}`,
      `10.96.0.10 . tcp . 53 : goto ${serviceChainName('kube-system/dns/tcp/dns-tcp')}`,
    ]);
    expect(rs.chains.get(endpointChainName('kube-system/dns/udp/dns', '10.244.1.2', 53))!.rules[1]).toBe('meta l4proto udp dnat to 10.244.1.2:53');
    expect(rs.chains.get(endpointChainName('kube-system/dns/tcp/dns-tcp', '10.244.1.2', 5353))!.rules[1]).toBe('meta l4proto tcp dnat to 10.244.1.2:5353');
  });

  it('multiple ports: each has its own endpoints; one without endpoints is rejected alone', () => {
    const rs = build(snapshot([svc('shop', 'web', { ports: [
      { name: 'http', protocol: 'TCP', port: 80 }, { name: 'metrics', protocol: 'TCP', port: 9090 },
    ] })], { 'shop/web:http': [ep('10.244.1.2', 8080)] }));
    expect(elements(rs, 'service-ips')).toEqual([`10.96.0.10 . tcp . 80 : goto ${serviceChainName('shop/web/tcp/http')}`]);
    expect(elements(rs, 'no-endpoint-services')).toEqual(['10.96.0.10 . tcp . 9090 : goto reject-chain']);
  });

  it('the service CIDR is rejected after DNAT, in forward and output', () => {
    const rs = build(snapshot([]));
    expect(rs.chains.get('cluster-ips-check')!.rules).toEqual(['ip daddr @cluster-ips reject', 'ip daddr 10.96.0.0/16 reject']);
    expect(rs.chains.get('filter-forward')!.rules).toContain('jump cluster-ips-check');
    expect(rs.chains.get('filter-output')!.rules).toContain('jump cluster-ips-check');
    expect(rs.chains.get('filter-output')!.hook).toEqual({ type: 'filter', hook: 'output', priority: 0 });
  });

  it('without a cluster CIDR there is no masquerade rule for outside clients', () => {
    const rs = buildRuleset(snapshot([svc('shop', 'web')], { 'shop/web:http': [ep('10.244.1.2', 8080)] }), { table: 't', serviceCIDR: '10.96.0.0/16' });
    expect(rs.chains.get(serviceChainName('shop/web/tcp/http'))!.rules).toHaveLength(1);
  });

  it('endpoints repeated across slices, IPv6 and bad ports are dropped; order does not change the output', () => {
    const a = build(snapshot([svc('shop', 'web')], { 'shop/web:http': [ep('10.244.1.9', 8080), ep('10.244.1.10', 8080), ep('10.244.1.9', 8080), ep('fd00::1', 8080), ep('10.244.1.11', 0)] }));
    const b = build(snapshot([svc('shop', 'web')], { 'shop/web:http': [ep('10.244.1.10', 8080), ep('10.244.1.9', 8080)] }));
    expect(chainsLike(a, 'endpoint-')).toHaveLength(2);
    expect(a.chains.get(serviceChainName('shop/web/tcp/http'))).toEqual(b.chains.get(serviceChainName('shop/web/tcp/http')));
  });

  it('two services claiming one ClusterIP and port: the first (by namespace/name) wins, the transaction stays valid', () => {
    const rs = build(snapshot([svc('b', 'x'), svc('a', 'x')], { 'a/x:http': [ep('10.244.1.2', 8080)], 'b/x:http': [ep('10.244.1.3', 8080)] }));
    expect(elements(rs, 'service-ips')).toEqual([`10.96.0.10 . tcp . 80 : goto ${serviceChainName('a/x/tcp/http')}`]);
    expect(elements(rs, 'cluster-ips')).toEqual(['10.96.0.10']);
  });
});

describe('names', () => {
  it('hash8 is 8 base32 characters, stable', () => {
    expect(hash8('ns1/svc1/tcp/p80')).toMatch(/^[A-Z2-7]{8}$/);
    expect(hash8('ns1/svc1/tcp/p80')).toBe(hash8('ns1/svc1/tcp/p80'));
    expect(hash8('ns1/svc1/tcp/p80')).not.toBe(hash8('ns1/svc1/tcp/p81'));
  });

  it('long names are cut to MAX_NAME and stay distinct through the hash', () => {
    const ns = 'n'.repeat(63);
    const name = 's'.repeat(63);
    const a = endpointChainName(`${ns}/${name}/tcp/${'p'.repeat(15)}`, '10.244.100.200', 65000);
    const b = endpointChainName(`${ns}/${name}/tcp/${'p'.repeat(15)}`, '10.244.100.201', 65000);
    expect(a.length).toBeLessThanOrEqual(MAX_NAME);
    expect(a).not.toBe(b);
  });

  it('characters nft would not parse unquoted are replaced', () => {
    expect(serviceChainName('ns/we"b; drop/tcp/x')).toMatch(/^service-[A-Z2-7]{8}-ns\/we_b__drop\/tcp\/x$/);
  });
});
