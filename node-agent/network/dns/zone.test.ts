import type { Packet, RecordType } from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { ep, snapshot, svc } from '../proxy/testdata.js';
import { RCODE, resolve } from './resolve.js';
import { buildZone, reverseName } from './zone.js';

const zone = buildZone(snapshot([
  svc('shop', 'web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', protocol: 'TCP', port: 80 }, { name: '', protocol: 'TCP', port: 81 }] }),
  svc('shop', 'db', { clusterIP: 'None', ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }] }),
  svc('shop', 'bare', { clusterIP: 'None', ports: [] }),
  svc('kube-system', 'dns', { clusterIP: '10.96.0.53', ports: [{ name: 'dns', protocol: 'UDP', port: 53 }] }),
], {
  'shop/db:pg': [
    ep('10.244.1.2', 5432, { hostname: 'db-0' }),
    ep('10.244.1.3', 5432),
    ep('10.244.1.4', 5432, { ready: false, serving: true, terminating: true }),
  ],
  'shop/bare:': [ep('10.244.2.9', 0)],
}));

const ask = (name: string, type: RecordType | 'ANY' = 'A', flags = 1 << 8): Packet => {
  const r = resolve(zone, { type: 'query', id: 7, flags, questions: [{ name, type: type as RecordType, class: 'IN' }] });
  if (r.kind !== 'answer') throw new Error(`${name} was forwarded`);
  return r.response;
};
const rcode = (p: Packet) => (p.flags ?? 0) & 0xf;
const data = (p: Packet) => (p.answers ?? []).map((a) => ('data' in a ? a.data : undefined));

describe('cluster zone', () => {
  it('A for a ClusterIP service, authoritative, TTL 5, RD echoed and RA set', () => {
    const r = ask('web.shop.svc.cluster.local');
    expect(rcode(r)).toBe(RCODE.NOERROR);
    expect(r.id).toBe(7);
    expect(data(r)).toEqual(['10.96.0.10']);
    expect(r.answers![0]).toMatchObject({ type: 'A', name: 'web.shop.svc.cluster.local', ttl: 5 });
    expect((r.flags ?? 0) & (1 << 10)).not.toBe(0);
    expect((r.flags ?? 0) & (1 << 8)).not.toBe(0);
    expect((r.flags ?? 0) & (1 << 7)).not.toBe(0);
  });

  it('names are case-insensitive and may end with a dot; the question is echoed as asked', () => {
    const r = ask('Web.Shop.SVC.cluster.local.');
    expect(data(r)).toEqual(['10.96.0.10']);
    expect(r.questions![0]!.name).toBe('Web.Shop.SVC.cluster.local.');
  });

  it('headless: one A per ready endpoint, and per-endpoint names (hostname, else dashed IP)', () => {
    expect(data(ask('db.shop.svc.cluster.local')).sort()).toEqual(['10.244.1.2', '10.244.1.3']);
    expect(data(ask('db-0.db.shop.svc.cluster.local'))).toEqual(['10.244.1.2']);
    expect(data(ask('10-244-1-3.db.shop.svc.cluster.local'))).toEqual(['10.244.1.3']);
    expect(rcode(ask('10-244-1-4.db.shop.svc.cluster.local'))).toBe(RCODE.NXDOMAIN);
    expect(data(ask('bare.shop.svc.cluster.local'))).toEqual(['10.244.2.9']);
  });

  it('SRV for named ports: the service for a ClusterIP, each endpoint for headless, targets in additionals', () => {
    const r = ask('_http._tcp.web.shop.svc.cluster.local', 'SRV');
    expect(data(r)).toEqual([{ priority: 0, weight: 100, port: 80, target: 'web.shop.svc.cluster.local' }]);
    expect(r.additionals).toEqual([{ type: 'A', name: 'web.shop.svc.cluster.local', ttl: 5, class: 'IN', data: '10.96.0.10' }]);
    const h = ask('_pg._tcp.db.shop.svc.cluster.local', 'SRV');
    expect(data(h)).toEqual([
      { priority: 0, weight: 100, port: 5432, target: 'db-0.db.shop.svc.cluster.local' },
      { priority: 0, weight: 100, port: 5432, target: '10-244-1-3.db.shop.svc.cluster.local' },
    ]);
    expect(data(ask('_dns._udp.dns.kube-system.svc.cluster.local', 'SRV'))).toEqual([{ priority: 0, weight: 100, port: 53, target: 'dns.kube-system.svc.cluster.local' }]);
    // Unnamed ports have no SRV name; the wrong protocol is not there either.
    expect(rcode(ask('_http._udp.web.shop.svc.cluster.local', 'SRV'))).toBe(RCODE.NXDOMAIN);
  });

  it('PTR for ClusterIPs', () => {
    expect(reverseName('10.96.0.10')).toBe('10.0.96.10.in-addr.arpa');
    expect(data(ask('10.0.96.10.in-addr.arpa', 'PTR'))).toEqual(['web.shop.svc.cluster.local']);
  });

  it('unknown names in the zone: NXDOMAIN with the SOA in authority', () => {
    const r = ask('nope.shop.svc.cluster.local');
    expect(rcode(r)).toBe(RCODE.NXDOMAIN);
    expect(r.answers).toEqual([]);
    expect(r.authorities![0]).toMatchObject({ type: 'SOA', name: 'cluster.local', ttl: 5, data: { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', minimum: 5 } });
  });

  it('known names, other types: NOERROR/NODATA with the SOA; empty non-terminals too', () => {
    for (const [name, type] of [['web.shop.svc.cluster.local', 'AAAA'], ['web.shop.svc.cluster.local', 'MX'], ['shop.svc.cluster.local', 'A'], ['svc.cluster.local', 'A']] as const) {
      const r = ask(name, type);
      expect(rcode(r), `${name} ${type}`).toBe(RCODE.NOERROR);
      expect(r.answers).toEqual([]);
      expect(r.authorities![0]!.type).toBe('SOA');
    }
  });

  it('SOA at the apex; ANY returns every record of the name', () => {
    expect(ask('cluster.local', 'SOA').answers![0]!.type).toBe('SOA');
    expect(data(ask('web.shop.svc.cluster.local', 'ANY'))).toEqual(['10.96.0.10']);
  });

  it('names outside the domain, and reverse names without a PTR, are forwarded', () => {
    const q = (name: string, type: RecordType): Packet => ({ type: 'query', id: 1, questions: [{ name, type }] });
    expect(resolve(zone, q('example.com', 'A')).kind).toBe('forward');
    expect(resolve(zone, q('cluster.local.example.com', 'A')).kind).toBe('forward');
    expect(resolve(zone, q('1.2.0.192.in-addr.arpa', 'PTR')).kind).toBe('forward');
  });

  it('more than one question is FORMERR; a non-QUERY opcode is NOTIMP', () => {
    const two = resolve(zone, { type: 'query', id: 1, questions: [{ name: 'a.cluster.local', type: 'A' }, { name: 'b.cluster.local', type: 'A' }] });
    expect(two.kind === 'answer' && rcode(two.response)).toBe(RCODE.FORMERR);
    const notify = resolve(zone, { type: 'query', id: 1, flags: 4 << 11, questions: [{ name: 'cluster.local', type: 'SOA' }] });
    expect(notify.kind === 'answer' && rcode(notify.response)).toBe(RCODE.NOTIMP);
  });

  it('another cluster domain', () => {
    const z = buildZone(snapshot([svc('a', 'b', { clusterIP: '10.96.1.1' })]), 'Corp.Internal.');
    const r = resolve(z, { type: 'query', id: 1, questions: [{ name: 'b.a.svc.corp.internal', type: 'A' }] });
    expect(r.kind === 'answer' && data(r.response)).toEqual(['10.96.1.1']);
    expect(resolve(z, { type: 'query', id: 1, questions: [{ name: 'b.a.svc.cluster.local', type: 'A' }] }).kind).toBe('forward');
  });
});
