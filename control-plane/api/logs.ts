// Api.Logs: find the pod's node and proxy the node agent's log stream, as the Kubernetes API
// server proxies to the kubelet. Errors say why there are no logs (not scheduled, no agent
// address, agent unreachable) instead of a bare transport failure.
import type { ServerWritableStream } from '@grpc/grpc-js';
import { errors, fromGrpcError } from '../../proto/api/errors.js';
import type { LogChunk, LogsRequest } from '../../proto/gen/skiff/v1/api.js';
import type { Node, Pod } from '../../proto/gen/skiff/v1/core.js';
import type { ApiContext } from './context.js';
import { DEFAULT_NAMESPACE } from './defaults.js';
import { agentClient } from './agent-client.js';

/** host:port of a node's agent, from status.addresses and status.daemonEndpoints. */
export async function agentAddress(ctx: ApiContext, nodeName: string): Promise<string> {
  return agentTargetOf(await ctx.store.get('Node', '', nodeName));
}

/** host:port of the agent a Node object publishes; Unavailable when it publishes none. */
export function agentTargetOf(node: Node): string {
  const nodeName = node.metadata?.name ?? '';
  const addrs = node.status?.addresses ?? [];
  const addr = addrs.find((a) => a.type === 'InternalIP') ?? addrs.find((a) => a.type === 'Hostname') ?? addrs[0];
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0;
  if (!addr?.address || !port) {
    throw errors.unavailable(`node "${nodeName}" has not published its agent address (status.addresses / status.daemonEndpoints); is its node agent running?`);
  }
  return addr.address.includes(':') ? `[${addr.address}]:${port}` : `${addr.address}:${port}`;
}

/** The container a request names (an init container too), or the pod's only one; BadRequest otherwise. */
export function podContainer(pod: Pod, asked: string): string {
  const where = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
  const names = pod.spec?.containers.map((c) => c.name) ?? [];
  const initNames = pod.spec?.initContainers.map((c) => c.name) ?? [];
  if (!asked) {
    if (names.length !== 1) throw errors.badRequest(`pod "${where}" has ${names.length} containers; choose one of: ${names.join(', ')}`);
    return names[0]!;
  }
  if (!names.includes(asked) && !initNames.includes(asked)) {
    throw errors.badRequest(`pod "${where}" has no container "${asked}"; choose one of: ${[...initNames, ...names].join(', ')}`);
  }
  return asked;
}

/** Where a log stream goes: the gRPC call or the REST gateway's HTTP response. */
export interface LogOutput {
  /** False when the client's buffer is full: wait for drain before writing more. */
  write(chunk: LogChunk): boolean;
  onceDrain(cb: () => void): void;
  onCancel(cb: () => void): void;
}

/** Pipes the agent's LogChunk stream into call; resolves when it ends. */
export function proxyLogs(ctx: ApiContext, call: ServerWritableStream<LogsRequest, LogChunk>): Promise<void> {
  return streamLogs(ctx, call.request, {
    write: (chunk) => call.write(chunk),
    onceDrain: (cb) => call.once('drain', cb),
    onCancel: (cb) => call.on('cancelled', cb),
  });
}

/** Streams the pod's logs from its node agent into out; resolves when the agent's stream ends. */
export async function streamLogs(ctx: ApiContext, req: LogsRequest, out: LogOutput): Promise<void> {
  const ns = req.namespace || DEFAULT_NAMESPACE;
  if (!req.pod) throw errors.badRequest('logs: pod is required');
  const pod = await ctx.store.get('Pod', ns, req.pod);
  const container = podContainer(pod, req.container);
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw errors.badRequest(`pod "${ns}/${req.pod}" is not scheduled to a node yet, so it has no logs`);
  const target = await agentAddress(ctx, nodeName);
  const client = agentClient(target, ctx.kubelet);
  try {
    await new Promise<void>((resolve, reject) => {
      const stream = client.logs({ ...req, namespace: ns, container }, { deadline: req.follow ? Infinity : Date.now() + 60_000 });
      out.onCancel(() => stream.cancel());
      stream.on('data', (chunk: LogChunk) => {
        if (!out.write(chunk)) {
          stream.pause();
          out.onceDrain(() => stream.resume());
        }
      });
      stream.on('end', resolve);
      stream.on('error', (e) => {
        const err = fromGrpcError(e);
        if (err.code === 'Unavailable' || err.code === 'Timeout') {
          reject(errors.unavailable(`cannot reach the node agent of node "${nodeName}" at ${target}: ${err.message}`));
        } else reject(err);
      });
    });
  } finally {
    client.close();
  }
}
