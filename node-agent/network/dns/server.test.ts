// The DNS server over real sockets on 127.0.0.1. Forwarding goes to a second DNS server this
// test starts on loopback: no query ever leaves the machine.
import { createSocket, type Socket } from 'node:dgram';
import { connect } from 'node:net';
import dnsPacket, { type DecodedPacket, type Packet, type RecordType } from 'dns-packet';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/helpers/ports.js';
import { ep, snapshot, svc } from '../proxy/testdata.js';
import { ClusterDnsServer } from './server.js';

const log = pino({ level: 'silent' });

function query(name: string, type: RecordType, id = 4242, edns = false): Buffer {
  const p: Packet = { type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }] };
  if (edns) p.additionals = [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }];
  return dnsPacket.encode(p);
}

function udpAsk(port: number, msg: Buffer): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => { s.close(); reject(new Error('no UDP answer')); }, 3000);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(dnsPacket.decode(m)); });
    s.send(msg, port, '127.0.0.1');
  });
}

function tcpAsk(port: number, msgs: Buffer[]): Promise<DecodedPacket[]> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const out: DecodedPacket[] = [];
    s.setTimeout(3000, () => { s.destroy(); reject(new Error('no TCP answer')); });
    s.on('error', reject);
    s.on('connect', () => {
      // Both queries in one write: the server must split the stream on the length prefixes.
      s.write(Buffer.concat(msgs.map((m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 255]), m]))));
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length === msgs.length) { s.destroy(); resolve(out); }
    });
  });
}

const rcode = (p: DecodedPacket) => (p.flags ?? 0) & 0xf;
const addrs = (p: DecodedPacket) => (p.answers ?? []).map((a) => ('data' in a ? a.data : undefined));

describe('cluster DNS server on loopback', () => {
  let upstream: Socket;
  let upstreamPort = 0;
  const upstreamSeen: string[] = [];
  let dns: ClusterDnsServer;
  let port = 0;

  beforeAll(async () => {
    // The stand-in for the node's resolver: answers example.test A 192.0.2.1, else NXDOMAIN.
    upstream = createSocket('udp4');
    upstream.on('message', (m, r) => {
      const q = dnsPacket.decode(m);
      const name = q.questions![0]!.name;
      upstreamSeen.push(name);
      const ok = name === 'example.test';
      upstream.send(dnsPacket.encode({
        type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE | (ok ? 0 : 3), questions: q.questions,
        answers: ok ? [{ type: 'A', name, ttl: 60, data: '192.0.2.1' }] : [],
      }), r.port, r.address);
    });
    await new Promise<void>((res) => upstream.bind(0, '127.0.0.1', res));
    upstreamPort = upstream.address().port;

    port = await freePort();
    dns = new ClusterDnsServer({
      listenAddress: '127.0.0.1', port, log, forwardTimeoutMs: 500,
      // The first upstream is dead (nothing listens there), so the second one is tried.
      upstreams: [{ host: '127.0.0.1', port: await freePort() }, { host: '127.0.0.1', port: upstreamPort }],
    });
    await dns.start();
    const manyEndpoints = Array.from({ length: 60 }, (_, i) => ep(`10.244.3.${i + 1}`, 5432));
    dns.update(snapshot([
      svc('shop', 'web', { clusterIP: '10.96.0.10' }),
      svc('shop', 'big', { clusterIP: 'None', ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }] }),
    ], { 'shop/big:pg': manyEndpoints }));
  });

  afterAll(async () => {
    await dns?.stop();
    upstream?.close();
  });

  it('answers A over UDP and TCP on one port', async () => {
    const u = await udpAsk(port, query('web.shop.svc.cluster.local', 'A'));
    expect(u.id).toBe(4242);
    expect(u.flag_aa).toBe(true);
    expect(addrs(u)).toEqual(['10.96.0.10']);
    const [t1, t2] = await tcpAsk(port, [query('web.shop.svc.cluster.local', 'A', 1), query('nope.shop.svc.cluster.local', 'A', 2)]);
    expect(t1!.id).toBe(1);
    expect(addrs(t1!)).toEqual(['10.96.0.10']);
    expect(t2!.id).toBe(2);
    expect(rcode(t2!)).toBe(3);
    expect(t2!.authorities![0]!.type).toBe('SOA');
  });

  it('an update replaces the records', async () => {
    dns.update(snapshot([svc('shop', 'web', { clusterIP: '10.96.0.20' })]));
    expect(addrs(await udpAsk(port, query('web.shop.svc.cluster.local', 'A')))).toEqual(['10.96.0.20']);
    expect(rcode(await udpAsk(port, query('big.shop.svc.cluster.local', 'A')))).toBe(3);
    dns.update(snapshot([
      svc('shop', 'web', { clusterIP: '10.96.0.10' }),
      svc('shop', 'big', { clusterIP: 'None', ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }] }),
    ], { 'shop/big:pg': Array.from({ length: 60 }, (_, i) => ep(`10.244.3.${i + 1}`, 5432)) }));
  });

  it('a reply too big for 512 bytes of UDP is truncated (TC); TCP and EDNS carry it whole', async () => {
    const u = await udpAsk(port, query('big.shop.svc.cluster.local', 'A'));
    expect(u.flag_tc).toBe(true);
    expect(u.answers).toEqual([]);
    const [t] = await tcpAsk(port, [query('big.shop.svc.cluster.local', 'A')]);
    expect(t!.flag_tc).toBe(false);
    expect(t!.answers).toHaveLength(60);
    const e = await udpAsk(port, query('big.shop.svc.cluster.local', 'A', 9, true));
    expect(e.flag_tc).toBe(false);
    expect(e.answers).toHaveLength(60);
    expect(e.additionals!.some((a) => a.type === 'OPT')).toBe(true);
  });

  it('forwards names outside the cluster domain to the upstream, past a dead one', async () => {
    const r = await udpAsk(port, query('example.test', 'A', 77));
    expect(r.id).toBe(77);
    expect(addrs(r)).toEqual(['192.0.2.1']);
    expect(r.flag_aa).toBe(false);
    expect(upstreamSeen).toContain('example.test');
    expect(upstreamSeen.some((n) => n.endsWith('cluster.local'))).toBe(false);
  });

  it('SERVFAIL when no upstream answers', async () => {
    const lonely = new ClusterDnsServer({ listenAddress: '127.0.0.1', port: 0, log, forwardTimeoutMs: 200, upstreams: [{ host: '127.0.0.1', port: await freePort() }] });
    await lonely.start();
    try {
      const r = await udpAsk(lonely.port, query('example.test', 'A', 5));
      expect(rcode(r)).toBe(2);
      expect(r.id).toBe(5);
    } finally {
      await lonely.stop();
    }
  });

  it('a garbled query gets FORMERR, and the server keeps answering', async () => {
    const junk = Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0]), Buffer.from([0x3f, 0x61])]);
    const r = await udpAsk(port, junk);
    expect(r.id).toBe(0x1234);
    expect(rcode(r)).toBe(1);
    expect(addrs(await udpAsk(port, query('web.shop.svc.cluster.local', 'A')))).toEqual(['10.96.0.10']);
  });
});
