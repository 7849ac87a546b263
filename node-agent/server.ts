// The agent's own gRPC service (NodeAgent): container logs read from the CRI log files under
// the sandbox's log directory (tail, follow, previous attempt, timestamps), exec in a running
// container (CRI ExecSync through the Runtime) and a status summary.
import { Server, type ServerDuplexStream, type ServerWritableStream, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { connect, type Socket } from 'node:net';
import { access } from 'node:fs/promises';
import type { PeerCertificate } from 'node:tls';
import { errors, toGrpcStatus } from '../proto/api/errors.js';
import { bridge } from '../proto/api/port-forward.js';
import type { ExecRequest, ExecResponse, ExecStreamFrame, LogChunk, LogsRequest, PortForwardFrame } from '../proto/gen/skiff/v1/api.js';
import {
  NodeAgentService, type AgentStatus, type AgentStatusRequest, type NodeAgentServer, type NodeStats, type NodeStatsRequest,
} from '../proto/gen/skiff/v1/agent.js';
import { streamLog } from './logs.js';
import { RuntimeError, type ExecResult, type ExecSession } from './runtime/runtime.js';
import { agentServerCredentials, refuseCaller, type AgentServingTls } from './server-tls.js';

/** What a command gets when the request sets no timeout (kubelet streams have none; ExecSync needs one). */
export const DEFAULT_EXEC_TIMEOUT_SECONDS = 300;

/** What the service needs from the agent. */
export interface LogSource {
  status(): Promise<AgentStatus>;
  /** The latest resource-usage sample of the node's containers. */
  stats(): NodeStats;
  /** Containers of a pod, or undefined when the pod is not on this node. */
  containersOf(namespace: string, pod: string): string[] | undefined;
  /** Init containers can be named (logs, exec) but are never the default. */
  initContainersOf?(namespace: string, pod: string): string[] | undefined;
  logFile(namespace: string, pod: string, container: string, previous: boolean): { path: string; running: () => boolean } | undefined;
  /** Runs cmd in the container; undefined when that container is not running now. */
  exec(namespace: string, pod: string, container: string, cmd: string[], timeoutSeconds: number): Promise<ExecResult | undefined>;
  /**
   * Starts an interactive exec; undefined when the container is not running. Throws
   * BadRequest when the runtime cannot stream (the fake).
   */
  execStream(namespace: string, pod: string, container: string, cmd: string[], opts: { tty: boolean; stdin: boolean }): Promise<ExecSession | undefined>;
  /** The address port-forward dials for a pod of this node; undefined while it has none. */
  forwardHost(namespace: string, pod: string): string | undefined;
}

/** Followed log streams one agent serves at once by default (each holds a file and a poll). */
export const DEFAULT_MAX_LOG_FOLLOWS = 64;

export function nodeAgentServer(src: LogSource, opts: { maxLogFollows?: number } = {}): NodeAgentServer {
  const maxFollows = opts.maxLogFollows ?? DEFAULT_MAX_LOG_FOLLOWS;
  let follows = 0;
  return {
    status(_call: ServerUnaryCall<AgentStatusRequest, AgentStatus>, cb: sendUnaryData<AgentStatus>) {
      src.status().then(
        (s) => cb(null, s),
        (e: unknown) => cb(toGrpcStatus(e), null),
      );
    },
    stats(_call: ServerUnaryCall<NodeStatsRequest, NodeStats>, cb: sendUnaryData<NodeStats>) {
      cb(null, src.stats());
    },
    exec(call: ServerUnaryCall<ExecRequest, ExecResponse>, cb: sendUnaryData<ExecResponse>) {
      execIn(src, call.request).then(
        (r) => cb(null, r),
        (e: unknown) => cb(toGrpcStatus(e), null),
      );
    },
    portForward(call: ServerDuplexStream<PortForwardFrame, PortForwardFrame>) {
      call.once('data', (first: PortForwardFrame) => {
        call.pause();
        void forward(src, call, first).catch((e: unknown) => call.emit('error', toGrpcStatus(e)));
      });
    },
    execStream(call: ServerDuplexStream<ExecStreamFrame, ExecStreamFrame>) {
      call.once('data', (first: ExecStreamFrame) => {
        call.pause();
        void interactive(src, call, first).then(
          () => call.end(),
          (e: unknown) => call.emit('error', toGrpcStatus(e)),
        );
      });
    },
    logs(call: ServerWritableStream<LogsRequest, LogChunk>) {
      const follow = call.request.follow;
      if (follow && follows >= maxFollows) {
        call.emit('error', toGrpcStatus(errors.tooManyRequests(
          `this node already streams ${follows} followed logs (the agent's --max-log-follows is ${maxFollows}): stop one or retry later`,
        )));
        return;
      }
      if (follow) follows++;
      void streamLogs(src, call).then(
        () => call.end(),
        // grpc-js sends an 'error' event's status as the call's status (destroy() would not).
        (e: unknown) => call.emit('error', toGrpcStatus(e)),
      ).finally(() => {
        if (follow) follows--;
      });
    },
  };
}

/** The named container, or the pod's only one; NotFound / BadRequest say what is there instead. */
function containerOf(src: LogSource, ns: string, pod: string, asked: string): string {
  const containers = src.containersOf(ns, pod);
  if (!containers) throw errors.notFound('Pod', ns, pod);
  if (!asked) {
    if (containers.length !== 1) {
      throw errors.badRequest(`pod ${ns}/${pod} has ${containers.length} containers (${containers.join(', ')}): name one with --container`);
    }
    return containers[0]!;
  }
  if (!containers.includes(asked) && !src.initContainersOf?.(ns, pod)?.includes(asked)) throw errors.badRequest(`container "${asked}" is not in pod ${ns}/${pod}; it has ${containers.join(', ')}`);
  return asked;
}

async function execIn(src: LogSource, r: ExecRequest): Promise<ExecResponse> {
  const ns = r.namespace || 'default';
  if (r.command.length === 0) throw errors.badRequest('exec: command is required');
  if (r.timeoutSeconds < 0) throw errors.badRequest(`exec: timeoutSeconds must be >= 0, not ${r.timeoutSeconds}`);
  const container = containerOf(src, ns, r.pod, r.container);
  let res: ExecResult | undefined;
  try {
    res = await src.exec(ns, r.pod, container, r.command, r.timeoutSeconds || DEFAULT_EXEC_TIMEOUT_SECONDS);
  } catch (e) {
    // The runtime could not run it at all (no such binary, container gone): the user's problem
    // to fix, with the runtime's own words.
    if (e instanceof RuntimeError) throw errors.badRequest(`exec in container "${container}" of pod ${ns}/${r.pod} failed: ${e.message}`);
    throw e;
  }
  if (!res) throw errors.badRequest(`container "${container}" of pod ${ns}/${r.pod} is not running; exec needs a running container`);
  return { stdout: res.stdout, stderr: res.stderr, exitCode: res.exitCode };
}

const outFrame = (f: Partial<ExecStreamFrame>): ExecStreamFrame => ({
  start: undefined, tty: false, stdin: false, data: Buffer.alloc(0), channel: 0, closeStdin: false, width: 0, height: 0, exitCode: undefined, ...f,
});

/** Runs the first frame's command with the runtime's streaming exec and relays it with the stream. */
async function interactive(src: LogSource, call: ServerDuplexStream<ExecStreamFrame, ExecStreamFrame>, first: ExecStreamFrame): Promise<void> {
  const r = first.start;
  if (!r) throw errors.badRequest('exec: the first frame must carry start');
  const ns = r.namespace || 'default';
  if (r.command.length === 0) throw errors.badRequest('exec: command is required');
  const container = containerOf(src, ns, r.pod, r.container);
  let session: ExecSession | undefined;
  try {
    session = await src.execStream(ns, r.pod, container, r.command, { tty: first.tty, stdin: first.stdin });
  } catch (e) {
    if (e instanceof RuntimeError) throw errors.badRequest(`exec in container "${container}" of pod ${ns}/${r.pod} failed: ${e.message}`);
    throw e;
  }
  if (!session) throw errors.badRequest(`container "${container}" of pod ${ns}/${r.pod} is not running; exec needs a running container`);
  const s = session;
  call.on('cancelled', () => s.close());
  s.onOutput((channel, data) => {
    call.write(outFrame({ channel, data }));
  });
  call.on('data', (f: ExecStreamFrame) => {
    if (f.data.length) s.write(Buffer.from(f.data));
    if (f.width && f.height) s.resize(f.width, f.height);
    if (f.closeStdin) s.closeStdin();
  });
  call.on('end', () => {
    if (first.stdin) s.closeStdin();
  });
  call.resume();
  // The first frame may already carry input or a size.
  if (first.width && first.height) s.resize(first.width, first.height);
  if (first.data.length) s.write(Buffer.from(first.data));
  if (first.closeStdin) s.closeStdin();
  let exitCode: number;
  try {
    exitCode = await s.exited;
  } catch (e) {
    throw errors.badRequest(`exec in container "${container}" of pod ${ns}/${r.pod}: ${e instanceof Error ? e.message : String(e)}`);
  }
  call.write(outFrame({ exitCode }));
}

/** Dials the pod for the stream's first frame, then bridges the connection and the stream. */
async function forward(src: LogSource, call: ServerDuplexStream<PortForwardFrame, PortForwardFrame>, first: PortForwardFrame): Promise<void> {
  const ns = first.namespace || 'default';
  const where = `pod ${ns}/${first.pod}`;
  if (first.port < 1 || first.port > 65535) throw errors.badRequest(`port-forward: port must be 1-65535, not ${first.port}`);
  if (!src.containersOf(ns, first.pod)) throw errors.notFound('Pod', ns, first.pod);
  const host = src.forwardHost(ns, first.pod);
  if (!host) throw errors.badRequest(`${where} has no network yet (its sandbox is not running); port-forward needs a running pod`);
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host, port: first.port, allowHalfOpen: true });
    s.once('connect', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e) => reject(errors.unavailable(`${where}: cannot connect to ${host}:${first.port}: ${e.message}`)));
  });
  call.on('cancelled', () => socket.destroy());
  if (first.data.length) socket.write(first.data);
  const done = bridge(socket, call);
  call.resume();
  const err = await done;
  if (err) throw errors.unavailable(`${where} port ${first.port}: ${err.message}`);
}

async function streamLogs(src: LogSource, call: ServerWritableStream<LogsRequest, LogChunk>): Promise<void> {
  const r = call.request;
  const ns = r.namespace || 'default';
  const container = containerOf(src, ns, r.pod, r.container);
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
    async (lines) => {
      // A slow reader holds the reading back instead of the agent buffering the file for it.
      if (!call.write({ data: Buffer.from(lines.join('')), container, pod: r.pod })) {
        await new Promise<void>((resolve) => {
          call.once('drain', resolve);
          ac.signal.addEventListener('abort', () => resolve(), { once: true });
        });
      }
    },
  );
}

type AnyCall = { getAuthContext(): { sslPeerCertificate?: PeerCertificate }; emit(event: 'error', e: unknown): unknown };

/** Every method of impl, behind the caller check (refused unary calls answer the error; streams emit it). */
function guarded(impl: NodeAgentServer, tls: AgentServingTls): NodeAgentServer {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(impl) as [string, (call: AnyCall, cb?: (e: unknown, r: unknown) => void) => void][]) {
    out[name] = (call: AnyCall, cb?: (e: unknown, r: unknown) => void): void => {
      const refusal = refuseCaller(tls, call.getAuthContext().sslPeerCertificate);
      if (!refusal) return fn(call, cb);
      if (cb) cb(refusal, null);
      else call.emit('error', refusal);
    };
  }
  return out as unknown as NodeAgentServer;
}

/** Serves the NodeAgent service over mutual TLS; resolves with the bound port. */
export async function serveNodeAgent(listen: string, src: LogSource, opts: { maxLogFollows?: number; tls: AgentServingTls }): Promise<{ server: Server; port: number }> {
  const server = new Server();
  server.addService(NodeAgentService, guarded(nodeAgentServer(src, opts), opts.tls));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(listen, agentServerCredentials(opts.tls), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port };
}
