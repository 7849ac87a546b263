// Forwarding names outside the cluster domain to the node's resolvers, as raw DNS messages (the
// client's id and flags go through unchanged). UDP queries go out over UDP (a truncated reply
// makes the client retry over TCP, which is forwarded over TCP); upstreams are tried in order.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

export interface Upstream {
  host: string;
  port: number;
}

export function upstreamsFrom(nameservers: string[]): Upstream[] {
  return nameservers.map((host) => ({ host, port: 53 }));
}

function udpOnce(query: Buffer, up: Upstream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(up.host.includes(':') ? 'udp6' : 'udp4');
    const done = (err: Error | undefined, reply?: Buffer) => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => done(new Error(`no answer from ${up.host}:${up.port} within ${timeoutMs} ms`)), timeoutMs);
    sock.on('error', (err) => done(err));
    sock.on('message', (msg, rinfo) => {
      // Only the reply to this query, from the server asked (ids are the first two bytes).
      if (rinfo.port !== up.port || msg.length < 2 || msg.readUInt16BE(0) !== query.readUInt16BE(0)) return;
      done(undefined, msg);
    });
    sock.send(query, up.port, up.host, (err) => err && done(err));
  });
}

function tcpOnce(query: Buffer, up: Upstream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: up.host, port: up.port });
    let buf = Buffer.alloc(0);
    const done = (err: Error | undefined, reply?: Buffer) => {
      sock.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    sock.setTimeout(timeoutMs, () => done(new Error(`no answer from ${up.host}:${up.port} (tcp) within ${timeoutMs} ms`)));
    sock.on('error', (err) => done(err));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(undefined, buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    sock.on('end', () => done(new Error(`${up.host}:${up.port} closed the connection without an answer`)));
  });
}

/** The first answer from the upstreams, tried in order; rejects with the last error. */
export async function forward(query: Buffer, upstreams: readonly Upstream[], tcp: boolean, timeoutMs: number): Promise<Buffer> {
  let last: unknown = new Error('no upstream resolvers configured');
  for (const up of upstreams) {
    try {
      return await (tcp ? tcpOnce(query, up, timeoutMs) : udpOnce(query, up, timeoutMs));
    } catch (err) {
      last = err;
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}
