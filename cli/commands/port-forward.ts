// skiff port-forward POD [LOCAL:]REMOTE...: listens on 127.0.0.1:LOCAL (only loopback) and
// forwards each accepted connection through the control plane to the pod's node agent, which
// connects to the pod's port: one Api.PortForward stream per connection, as kubectl opens one
// stream pair per connection. Runs until the signal aborts (Ctrl-C).
import { createServer, type AddressInfo, type Server } from 'node:net';
import { errors } from '../../proto/api/errors.js';
import { bridge } from '../../proto/api/port-forward.js';
import { line, type Ctx } from '../context.js';
import { resolvePod } from './logs.js';

export interface PortPair {
  /** 0: any free port. */
  local: number;
  remote: number;
}

function port(text: string, what: string, allowZero: boolean): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535 || (n === 0 && !allowZero)) throw errors.badRequest(`invalid ${what} port "${text}": expected 1-65535`);
  return n;
}

/** kubectl's forms: "8080:80", "80" (same port locally), ":80" (a free local port). */
export function parsePortPair(spec: string): PortPair {
  const parts = spec.split(':');
  if (parts.length === 1) {
    const p = port(parts[0]!, 'remote', false);
    return { local: p, remote: p };
  }
  if (parts.length !== 2) throw errors.badRequest(`invalid port mapping "${spec}": use LOCAL:REMOTE, REMOTE or :REMOTE`);
  return { local: parts[0] === '' ? 0 : port(parts[0]!, 'local', true), remote: port(parts[1]!, 'remote', false) };
}

export async function portForwardCommand(ctx: Ctx, ref: string, specs: readonly string[], signal: AbortSignal, onListening?: (ports: number[]) => void): Promise<number> {
  if (specs.length === 0) throw errors.badRequest('give at least one port: skiff port-forward POD [LOCAL:]REMOTE');
  const pairs = specs.map(parsePortPair);
  const pod = await resolvePod(ctx, [ref], 'port-forward to');
  const namespace = ctx.settings.namespace;
  const servers: Server[] = [];
  const open = new Set<Promise<void>>();
  try {
    const bound: number[] = [];
    for (const pair of pairs) {
      const server = createServer({ allowHalfOpen: true }, (socket) => {
        line(ctx.stdout, `Handling connection for ${(server.address() as AddressInfo).port}`);
        const stream = ctx.api().portForward();
        stream.write({ namespace, pod, port: pair.remote, data: Buffer.alloc(0) });
        const done = bridge(socket, stream).then((e) => {
          if (e) line(ctx.stderr, `error forwarding port ${pair.remote} to pod ${namespace}/${pod}: ${ctx.api().error(e).message}`);
        });
        open.add(done);
        void done.finally(() => open.delete(done));
      });
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', (e) => reject(errors.badRequest(`unable to listen on 127.0.0.1:${pair.local}: ${e.message}`)));
        server.listen(pair.local, '127.0.0.1', () => resolve());
      });
      const local = (server.address() as AddressInfo).port;
      bound.push(local);
      line(ctx.stdout, `Forwarding from 127.0.0.1:${local} -> ${pair.remote}`);
    }
    onListening?.(bound);
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
  return 0;
}
