// The agent's own gRPC service (NodeAgent): container logs read from the CRI log files under
// the sandbox's log directory (tail, follow, previous attempt, timestamps) and a status summary.
import { Server, ServerCredentials, type ServerWritableStream, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { access } from 'node:fs/promises';
import { errors, toGrpcStatus } from '../proto/api/errors.js';
import type { LogChunk, LogsRequest } from '../proto/gen/skiff/v1/api.js';
import { NodeAgentService, type AgentStatus, type AgentStatusRequest, type NodeAgentServer } from '../proto/gen/skiff/v1/agent.js';
import { streamLog } from './logs.js';

/** What the service needs from the agent. */
export interface LogSource {
  status(): Promise<AgentStatus>;
  /** Containers of a pod, or undefined when the pod is not on this node. */
  containersOf(namespace: string, pod: string): string[] | undefined;
  logFile(namespace: string, pod: string, container: string, previous: boolean): { path: string; running: () => boolean } | undefined;
}

export function nodeAgentServer(src: LogSource): NodeAgentServer {
  return {
    status(_call: ServerUnaryCall<AgentStatusRequest, AgentStatus>, cb: sendUnaryData<AgentStatus>) {
      src.status().then(
        (s) => cb(null, s),
        (e: unknown) => cb(toGrpcStatus(e), null),
      );
    },
    logs(call: ServerWritableStream<LogsRequest, LogChunk>) {
      void streamLogs(src, call).then(
        () => call.end(),
        // grpc-js sends an 'error' event's status as the call's status (destroy() would not).
        (e: unknown) => call.emit('error', toGrpcStatus(e)),
      );
    },
  };
}

async function streamLogs(src: LogSource, call: ServerWritableStream<LogsRequest, LogChunk>): Promise<void> {
  const r = call.request;
  const ns = r.namespace || 'default';
  const containers = src.containersOf(ns, r.pod);
  if (!containers) throw errors.notFound('Pod', ns, r.pod);
  let container = r.container;
  if (!container) {
    if (containers.length !== 1) {
      throw errors.badRequest(`pod ${ns}/${r.pod} has ${containers.length} containers (${containers.join(', ')}): name one with --container`);
    }
    container = containers[0]!;
  }
  if (!containers.includes(container)) throw errors.badRequest(`container "${container}" is not in pod ${ns}/${r.pod}; it has ${containers.join(', ')}`);
  const f = src.logFile(ns, r.pod, container, r.previous);
  const missing = (): Error =>
    r.previous
      ? errors.badRequest(`previous terminated container "${container}" in pod ${ns}/${r.pod} not found`)
      : errors.badRequest(`container "${container}" in pod ${ns}/${r.pod} is waiting to start: no logs yet`);
  if (!f) throw missing();
  try {
    await access(f.path);
  } catch {
    throw missing();
  }
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort());
  call.on('close', () => ac.abort());
  await streamLog(
    f.path,
    { timestamps: r.timestamps, tailLines: Number(r.tailLines), follow: r.follow, signal: ac.signal, done: () => !f.running() },
    (lines) => {
      call.write({ data: Buffer.from(lines.join('')), container, pod: r.pod });
    },
  );
}

/** Serves the NodeAgent service; resolves with the bound port. */
export async function serveNodeAgent(listen: string, src: LogSource): Promise<{ server: Server; port: number }> {
  const server = new Server();
  server.addService(NodeAgentService, nodeAgentServer(src));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(listen, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port };
}
