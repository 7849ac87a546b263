// Api.Logs, Api.Exec and Api.PortForward against a node agent gRPC server that serves fixed lines and echoes
// exec requests (the real agent is a separate program; this one speaks the same NodeAgent
// service; node-agent/agent.test.ts runs exec through the real agent).
import { Server, type ClientReadableStream } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, fromGrpcError } from '../../proto/api/errors.js';
import { wrap } from '../../proto/api/kinds.js';
import { fromManifest, type JsonObject } from '../../proto/api/manifest.js';
import { NodeAgentService, type NodeAgentServer } from '../../proto/gen/skiff/v1/agent.js';
import type { ExecRequest, ExecResponse, ExecStreamFrame, LogChunk, LogsRequest, PortForwardFrame } from '../../proto/gen/skiff/v1/api.js';
import { testStore, type TestStore } from '../../test/helpers/etcd-client.js';
import { freePort } from '../../test/helpers/ports.js';
import { TEST_AGENT_SERVING } from '../../test/helpers/tls.js';
import { agentServerCredentials } from '../../node-agent/server-tls.js';
import { startTestServer, type TestServer } from './testing.js';

let ts: TestStore;
let srv: TestServer;
let agent: Server;
let agentPort: number;
const seen: LogsRequest[] = [];

beforeAll(async () => {
  ts = testStore();
  srv = await startTestServer(ts.store);
  agent = new Server();
  const impl: NodeAgentServer = {
    logs: (call) => {
      seen.push(call.request);
      const { pod, container } = call.request;
      call.write({ data: Buffer.from(`hello from ${pod}/${container}\n`), container, pod });
      call.write({ data: Buffer.from('second line\n'), container, pod });
      call.end();
    },
    exec: (call, cb) => {
      const { pod, container, command } = call.request;
      cb(null, { stdout: Buffer.from(`${pod}/${container}: ${command.join(' ')}\n`), stderr: Buffer.from('err\n'), exitCode: command.length });
    },
    portForward: (call) => {
      // Answers every frame with its data upper-cased: the relay is what is under test here.
      call.on('data', (f: { data: Buffer }) => call.write({ namespace: '', pod: '', port: 0, data: Buffer.from(Buffer.from(f.data).toString().toUpperCase()) }));
      call.on('end', () => call.end());
    },
    execStream: (call) => {
      // Echoes input as stdout and ends with exit code 0 once input ends.
      call.on('data', (f: { data: Buffer }) => {
        if (f.data.length) call.write({ start: undefined, tty: false, stdin: false, data: f.data, channel: 1, closeStdin: false, width: 0, height: 0, exitCode: undefined });
      });
      call.on('end', () => {
        call.write({ start: undefined, tty: false, stdin: false, data: Buffer.alloc(0), channel: 0, closeStdin: false, width: 0, height: 0, exitCode: 0 });
        call.end();
      });
    },
    status: (_call, cb) => cb(null, { nodeName: 'n1', runtime: 'test', runtimeVersion: '0', pods: 0, containers: 0 }),
    stats: (_call, cb) => cb(null, { nodeName: 'n1', timestamp: '', windowSeconds: 0, cpuNanoCores: 0, memoryWorkingSetBytes: 0, pods: [] }),
  };
  agent.addService(NodeAgentService, impl);
  agentPort = await new Promise<number>((resolve, reject) =>
    agent.bindAsync('127.0.0.1:0', agentServerCredentials(TEST_AGENT_SERVING), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const node = (name: string, port: number): JsonObject => ({
    apiVersion: 'v1', kind: 'Node', metadata: { name },
    status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } },
  });
  const deadPort = await freePort();
  const pod = (name: string, nodeName: string, containers = ['app']): JsonObject => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { ...(nodeName ? { nodeName } : {}), containers: containers.map((c) => ({ name: c, image: 'busybox:1' })) },
  });
  for (const doc of [node('n1', agentPort), node('n-dead', deadPort), pod('p1', 'n1'), pod('p2', 'n1', ['a', 'b']), pod('pending', ''), pod('p-dead', 'n-dead')]) {
    const { info, object } = fromManifest(doc);
    await srv.api.create({ object: wrap(info.kind, object) });
  }
  // The agent would report it; port-forward only reaches running pods.
  const p1 = await ts.store.get('Pod', 'default', 'p1');
  p1.status!.phase = 'Running';
  await ts.store.update('Pod', p1);
});
afterAll(async () => {
  await srv.stop();
  agent.forceShutdown();
  await ts.close();
});

function read(stream: ClientReadableStream<LogChunk>): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    stream.on('data', (c: LogChunk) => (out += Buffer.from(c.data).toString()));
    stream.on('end', () => resolve(out));
    stream.on('error', (e) => reject(fromGrpcError(e)));
  });
}

const logs = (r: Partial<LogsRequest>) =>
  read(srv.api.client.logs({ namespace: '', pod: '', container: '', follow: false, tailLines: -1, previous: false, timestamps: false, ...r }, srv.api.md));

async function failure(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (e instanceof ApiError) return e;
  throw new Error(`expected an ApiError, got ${String(e)}`);
}

describe('logs', () => {
  it("streams the node agent's lines for the pod's only container", async () => {
    expect(await logs({ pod: 'p1', tailLines: 10 })).toBe('hello from p1/app\nsecond line\n');
    expect(seen.at(-1)).toMatchObject({ namespace: 'default', pod: 'p1', container: 'app', tailLines: 10 });
  });

  it('asks which container when the pod has several, and accepts a named one', async () => {
    const e = await failure(logs({ pod: 'p2' }));
    expect(e.code).toBe('BadRequest');
    expect(e.message).toMatch(/has 2 containers; choose one of: a, b/);
    expect(await logs({ pod: 'p2', container: 'b' })).toContain('hello from p2/b');
  });

  it('explains an unscheduled pod and an unreachable agent', async () => {
    const e1 = await failure(logs({ pod: 'pending' }));
    expect(e1.message).toMatch(/is not scheduled to a node yet/);
    const e2 = await failure(logs({ pod: 'p-dead' }));
    expect(e2.code).toBe('Unavailable');
    expect(e2.message).toMatch(/cannot reach the node agent of node "n-dead" at 127\.0\.0\.1:\d+/);
    expect((await failure(logs({ pod: 'nope' }))).code).toBe('NotFound');
  });
});

const exec = (r: Partial<ExecRequest>): Promise<ExecResponse> =>
  new Promise((resolve, reject) => {
    srv.api.client.exec({ namespace: '', pod: '', container: '', command: [], timeoutSeconds: 0, ...r }, srv.api.md, (e, res) => (e ? reject(fromGrpcError(e)) : resolve(res)));
  });

describe('exec', () => {
  it("forwards to the pod's node agent and returns its output and exit code", async () => {
    const r = await exec({ pod: 'p2', container: 'b', command: ['sh', '-c', 'exit 3'] });
    expect(Buffer.from(r.stdout).toString()).toBe('p2/b: sh -c exit 3\n');
    expect(Buffer.from(r.stderr).toString()).toBe('err\n');
    expect(r.exitCode).toBe(3);
  });

  it('refuses what cannot run: no command, several containers, unscheduled pod, unreachable agent', async () => {
    const none = await failure(exec({ pod: 'p1' }));
    expect(none.code).toBe('Invalid');
    expect(none.causes[0]?.field).toBe('command');
    expect((await failure(exec({ pod: 'p2', command: ['true'] }))).message).toMatch(/has 2 containers/);
    expect((await failure(exec({ pod: 'pending', command: ['true'] }))).message).toMatch(/not scheduled to a node yet/);
    const dead = await failure(exec({ pod: 'p-dead', command: ['true'] }));
    expect(dead.code).toBe('Unavailable');
    expect(dead.message).toMatch(/cannot reach the node agent of node "n-dead"/);
  });
});

describe('port-forward', () => {
  const forward = (first: Partial<PortForwardFrame>, data: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = srv.api.client.portForward(srv.api.md);
      let out = '';
      s.on('data', (f: PortForwardFrame) => (out += Buffer.from(f.data).toString()));
      s.on('end', () => resolve(out));
      s.on('error', (e) => reject(fromGrpcError(e)));
      s.write({ namespace: '', pod: '', port: 0, data: Buffer.alloc(0), ...first });
      for (const d of data) s.write({ namespace: '', pod: '', port: 0, data: Buffer.from(d) });
      s.end();
    });

  it("relays frames both ways to the pod's node agent and ends when it does", async () => {
    expect(await forward({ pod: 'p1', port: 8080, data: Buffer.from('a') }, ['bc', 'd'])).toBe('ABCD');
  });

  it('refuses a bad port, an unknown pod and a pod that is not running', async () => {
    const bad = await failure(forward({ pod: 'p1', port: 70000 }, []));
    expect(bad.code).toBe('Invalid');
    expect(bad.causes[0]?.field).toBe('port');
    expect((await failure(forward({ pod: 'nope', port: 80 }, []))).code).toBe('NotFound');
    expect((await failure(forward({ pod: 'pending', port: 80 }, []))).message).toMatch(/not scheduled to a node yet/);
  });
});

describe('exec stream', () => {
  it("relays an interactive exec to the pod's node agent with the container resolved, and its exit code back", async () => {
    const s = srv.api.client.execStream(srv.api.md);
    const frames: ExecStreamFrame[] = [];
    const done = new Promise<void>((resolve, reject) => {
      s.on('data', (f: ExecStreamFrame) => frames.push(f));
      s.on('end', () => resolve());
      s.on('error', (e) => reject(fromGrpcError(e)));
    });
    const f = (x: Partial<ExecStreamFrame>): ExecStreamFrame => ({ start: undefined, tty: false, stdin: false, data: Buffer.alloc(0), channel: 0, closeStdin: false, width: 0, height: 0, exitCode: undefined, ...x });
    s.write(f({ start: { namespace: '', pod: 'p1', container: '', command: ['cat'], timeoutSeconds: 0 }, stdin: true }));
    s.write(f({ data: Buffer.from('abc') }));
    s.end();
    await done;
    expect(frames.filter((x) => x.channel === 1).map((x) => Buffer.from(x.data).toString()).join('')).toBe('abc');
    expect(frames.at(-1)?.exitCode).toBe(0);
  });

  it('refuses a first frame without start and a pod that cannot exec', async () => {
    const run = (first: Partial<ExecStreamFrame>): Promise<unknown> =>
      new Promise((resolve, reject) => {
        const s = srv.api.client.execStream(srv.api.md);
        s.on('data', () => undefined);
        s.on('end', () => resolve(undefined));
        s.on('error', (e) => reject(fromGrpcError(e)));
        s.write({ start: undefined, tty: false, stdin: false, data: Buffer.alloc(0), channel: 0, closeStdin: false, width: 0, height: 0, exitCode: undefined, ...first });
      });
    expect((await failure(run({}))).message).toMatch(/first frame must carry start/);
    expect((await failure(run({ start: { namespace: '', pod: 'pending', container: '', command: ['sh'], timeoutSeconds: 0 } }))).message).toMatch(/not scheduled/);
  });
});
