// The per-node cluster DNS server: UDP and TCP on one address and port (53 on the node's CNI
// gateway in production), authoritative for the cluster domain from an in-memory Zone rebuilt
// on every snapshot, forwarding everything else to the node's resolvers.
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Packet } from 'dns-packet';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { ServiceSnapshot } from '../snapshot.js';
import { forward, upstreamsFrom, type Upstream } from './forward.js';
import { readResolvConf } from './resolv-conf.js';
import { errorResponse, RCODE, resolve } from './resolve.js';
import { buildZone, DEFAULT_DOMAIN, type Zone } from './zone.js';

export interface ClusterDnsOptions {
  listenAddress: string;
  /** Default 53; 0 picks a free port (UDP first, TCP then binds the same number). */
  port?: number;
  domain?: string;
  /** Default: the nameservers of /etc/resolv.conf on port 53. */
  upstreams?: Upstream[];
  forwardTimeoutMs?: number;
  log: Logger;
  registry?: Registry;
}

const TC = 1 << 9;
const MAX_UDP = 4096;
const TCP_IDLE_MS = 10_000;

export class ClusterDnsServer {
  private zone: Zone;
  private serial = 1;
  private udp: Socket | undefined;
  private tcp: Server | undefined;
  private readonly conns = new Set<TcpSocket>();
  private readonly upstreams: Upstream[];
  private readonly log: Logger;
  private readonly requests: Counter<'proto' | 'result'>;
  private boundPort = 0;

  constructor(private readonly opts: ClusterDnsOptions) {
    this.zone = buildZone({ services: [], endpoints: new Map() }, opts.domain ?? DEFAULT_DOMAIN, this.serial);
    this.log = opts.log.child({ component: 'dns' });
    const own = (u: Upstream) => u.host === opts.listenAddress && u.port === (opts.port ?? 53);
    // Never forward to ourselves: a resolv.conf naming this server would loop every query.
    this.upstreams = (opts.upstreams ?? upstreamsFrom(readResolvConf().nameservers)).filter((u) => !own(u));
    this.requests = new Counter({
      name: 'skiff_dns_requests_total',
      help: 'Cluster DNS requests by transport and result (rcode, or forwarded / forward-failed)',
      labelNames: ['proto', 'result'],
      registers: opts.registry ? [opts.registry] : [],
    });
  }

  /** Replaces the records served; takes effect for the next query. */
  update(snapshot: ServiceSnapshot): void {
    this.zone = buildZone(snapshot, this.opts.domain ?? DEFAULT_DOMAIN, ++this.serial);
  }

  get port(): number {
    return this.boundPort;
  }

  /** Binds UDP then TCP on one port; on failure nothing stays bound, so start can be retried. */
  async start(): Promise<void> {
    try {
      await this.bind();
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  private async bind(): Promise<void> {
    const udp = createSocket({ type: 'udp4', reuseAddr: false });
    this.udp = udp;
    await new Promise<void>((res, rej) => {
      udp.once('error', rej);
      udp.bind(this.opts.port ?? 53, this.opts.listenAddress, () => {
        udp.off('error', rej);
        res();
      });
    });
    udp.on('error', (err) => this.log.error({ err }, 'DNS UDP socket error'));
    udp.on('message', (msg, rinfo) => {
      void this.handle(msg, false).then((reply) => {
        if (reply) udp.send(reply, rinfo.port, rinfo.address, (err) => err && this.log.warn({ err }, 'DNS UDP reply failed'));
      });
    });
    this.boundPort = udp.address().port;
    const tcp = createServer((sock) => this.serveTcp(sock));
    this.tcp = tcp;
    await new Promise<void>((res, rej) => {
      tcp.once('error', rej);
      tcp.listen(this.boundPort, this.opts.listenAddress, () => {
        tcp.off('error', rej);
        res();
      });
    });
    tcp.on('error', (err) => this.log.error({ err }, 'DNS TCP server error'));
    this.log.info({ address: this.opts.listenAddress, port: this.boundPort, upstreams: this.upstreams }, 'cluster DNS listening');
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await Promise.all([
      new Promise<void>((res) => {
        try {
          if (this.udp) this.udp.close(() => res());
          else res();
        } catch (e) {
          // A socket whose bind failed is not running: nothing to close.
          if ((e as NodeJS.ErrnoException).code !== 'ERR_SOCKET_DGRAM_NOT_RUNNING') throw e;
          res();
        }
      }),
      new Promise<void>((res) => (this.tcp?.listening ? this.tcp.close(() => res()) : res())),
    ]);
    this.udp = undefined;
    this.tcp = undefined;
  }

  private serveTcp(sock: TcpSocket): void {
    this.conns.add(sock);
    let buf = Buffer.alloc(0);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('close', () => this.conns.delete(sock));
    sock.on('error', (err) => this.log.debug({ err }, 'DNS TCP connection error'));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.handle(msg, true).then((reply) => {
          if (!reply || sock.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          sock.write(Buffer.concat([len, reply]));
        });
      }
    });
  }

  /** One query in, one reply out (undefined: nothing to send back). Never rejects. */
  private async handle(msg: Buffer, tcp: boolean): Promise<Buffer | undefined> {
    const proto = tcp ? 'tcp' : 'udp';
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch (err) {
      this.log.debug({ err }, 'undecodable DNS query');
      if (msg.length < 12) return undefined;
      this.requests.inc({ proto, result: 'FORMERR' });
      return dnsPacket.encode(errorResponse({ id: msg.readUInt16BE(0), flags: msg.readUInt16BE(2) & 0x7fff }, RCODE.FORMERR));
    }
    if (query.type === 'response') return undefined;
    const r = resolve(this.zone, query);
    if (r.kind === 'forward') {
      try {
        const reply = await forward(msg, this.upstreams, tcp, this.opts.forwardTimeoutMs ?? 2000);
        this.requests.inc({ proto, result: 'forwarded' });
        return reply;
      } catch (err) {
        this.log.warn({ err, name: query.questions?.[0]?.name }, 'forwarding a DNS query failed');
        this.requests.inc({ proto, result: 'forward-failed' });
        return dnsPacket.encode(errorResponse(query, RCODE.SERVFAIL));
      }
    }
    const response = r.response;
    const opt = (query.additionals ?? []).find((a) => a.type === 'OPT');
    let limit = 512;
    if (opt && 'udpPayloadSize' in opt) {
      limit = Math.min(MAX_UDP, Math.max(512, opt.udpPayloadSize));
      // EDNS in, EDNS out (RFC 6891 6.1.1).
      const ourOpt: Answer = { type: 'OPT', name: '.', udpPayloadSize: MAX_UDP, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
      response.additionals = [...(response.additionals ?? []), ourOpt];
    }
    this.requests.inc({ proto, result: rcodeName((response.flags ?? 0) & 0xf) });
    let out = dnsPacket.encode(response);
    if (!tcp && out.length > limit) out = dnsPacket.encode(truncated(response));
    return out;
  }
}

/** The header and question only, with TC set: the client retries over TCP. */
function truncated(p: Packet): Packet {
  return { ...p, flags: (p.flags ?? 0) | TC, answers: [], authorities: [], additionals: [] };
}

function rcodeName(code: number): string {
  return Object.entries(RCODE).find(([, v]) => v === code)?.[0] ?? String(code);
}
