// The node agent on a real containerd (CRI, runc, CNI bridge) against the real control plane:
// a pod gets a pod-network IP, its HTTP probes reach it there, its logs are served, exec (CRI
// ExecSync) and port-forward reach it, a crash is restarted, and deletion removes the sandbox.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isApiError } from '../proto/api/errors.js';
import { fromManifest } from '../proto/api/manifest.js';
import { NodeAgentClient } from '../proto/gen/skiff/v1/agent.js';
import type { ExecResponse, LogChunk, PortForwardFrame } from '../proto/gen/skiff/v1/api.js';
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import { startContainerd, type Containerd } from '../test/helpers/containerd.js';
import { testStore, type TestStore } from '../test/helpers/etcd-client.js';
import { until } from '../test/helpers/wait.js';
import { startApiServer, type RunningApiServer } from '../control-plane/api/server.js';
import { SharedInformers } from '../control-plane/informers.js';
import { NodeAgent } from './agent.js';
import { AgentApi } from './api-client.js';
import { CriRuntime } from './runtime/cri/driver.js';
import { execCommand } from '../cli/commands/exec.js';
import { makeCtx } from '../cli/context.js';
import { PassThrough } from 'node:stream';
import { TEST_AGENT_SERVING, TEST_CLIENT_TLS, TEST_KUBELET_TLS, TEST_SERVING } from '../test/helpers/tls.js';
import { grpcCredentials } from '../proto/api/tls-client.js';

const log = pino({ level: process.env.SKIFF_TEST_LOG ?? 'silent' });

let containerd: Containerd | undefined;
let ts: TestStore | undefined;
let informers: SharedInformers | undefined;
let server: RunningApiServer | undefined;
let client: AgentApi | undefined;
let agent: NodeAgent | undefined;
let stateDir = '';

beforeAll(async () => {
  containerd = await startContainerd();
  ts = testStore();
  informers = new SharedInformers(ts.store);
  server = await startApiServer({ tls: TEST_SERVING, kubelet: TEST_KUBELET_TLS, store: ts.store, informers, listen: '127.0.0.1:0', log });
  client = new AgentApi({ tls: TEST_CLIENT_TLS, address: `127.0.0.1:${server.port}` });
  stateDir = await mkdtemp(join(tmpdir(), 'skiff-agent-cri-'));
  agent = new NodeAgent({ tls: TEST_CLIENT_TLS, serving: TEST_AGENT_SERVING,
    nodeName: 'cri-node', controlPlane: `127.0.0.1:${server.port}`,
    runtime: new CriRuntime({ address: containerd.address, nodeName: 'cri-node', pollIntervalMs: 100 }),
    stateDir, listen: '127.0.0.1:0', log, heartbeatMs: 1000, podCIDR: containerd.subnet,
    backoff: { initialMs: 500, maxMs: 1000 },
  });
  await agent.start();
}, 180_000);

afterAll(async () => {
  await agent?.stop();
  await agent?.runtime.close();
  client?.close();
  await server?.stop();
  await informers?.stop();
  await ts?.close();
  await containerd?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
}, 180_000);

async function getPod(name: string): Promise<Pod | undefined> {
  try {
    return await client!.get('Pod', 'default', name);
  } catch (e) {
    if (isApiError(e, 'NotFound')) return undefined;
    throw e;
  }
}

describe('node agent on containerd', () => {
  it('runs a pod to Ready over HTTP probes on its pod IP, serves its logs, restarts a crash, tears it down', async () => {
    const pod = fromManifest({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'hello', namespace: 'default' },
      spec: {
        nodeName: 'cri-node', terminationGracePeriodSeconds: 5,
        containers: [
          {
            name: 'web', image: 'skiff/hello:1', env: [{ name: 'GREETING', value: 'from skiff' }],
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 1 },
            livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 2 },
          },
          { name: 'crash', image: 'skiff/crasher:1', env: [{ name: 'CRASH_AFTER', value: '0' }] },
        ],
      },
    }).object as Pod;
    await client!.create('Pod', pod);
    await until(async () => (await getPod('hello'))?.status?.containerStatuses.find((c) => c.name === 'web')?.ready === true, 90_000, 'web ready');
    const p = (await getPod('hello'))!;
    const prefix = containerd!.subnet.split('.').slice(0, 3).join('.');
    expect(p.status?.podIP.startsWith(`${prefix}.`)).toBe(true);
    const web = p.status!.containerStatuses.find((c) => c.name === 'web')!;
    expect(web.containerID).toMatch(/^cri:\/\//);
    expect(web.imageID).not.toBe('');
    const body = await (await fetch(`http://${p.status!.podIP}:8080/`)).text();
    expect(body).toContain('from skiff');

    await until(async () => ((await getPod('hello'))?.status?.containerStatuses.find((c) => c.name === 'crash')?.restartCount ?? 0) >= 1, 60_000, 'crasher restarted');
    const crash = (await getPod('hello'))!.status!.containerStatuses.find((c) => c.name === 'crash')!;
    expect(crash.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });

    const nodeAgent = new NodeAgentClient(`127.0.0.1:${agent!.port}`, grpcCredentials(`127.0.0.1:${agent!.port}`, TEST_KUBELET_TLS));
    const text = await new Promise<string>((resolve, reject) => {
      let out = '';
      const s = nodeAgent.logs({ namespace: 'default', pod: 'hello', container: 'web', follow: false, tailLines: -1, previous: false, timestamps: false });
      s.on('data', (c: LogChunk) => (out += Buffer.from(c.data).toString()));
      s.on('error', reject);
      s.on('end', () => resolve(out));
    });
    expect(text).toContain('hello v1 listening on :8080');

    // Exec through CRI ExecSync: output, stderr and the exit code come back as they are.
    const ran = await new Promise<ExecResponse>((resolve, reject) => {
      nodeAgent.exec(
        { namespace: 'default', pod: 'hello', container: 'web', command: ['sh', '-c', 'echo "$GREETING"; echo oops >&2; exit 4'], timeoutSeconds: 10 },
        (e, r) => (e ? reject(e) : resolve(r)),
      );
    });
    expect({ out: Buffer.from(ran.stdout).toString(), err: Buffer.from(ran.stderr).toString(), code: ran.exitCode }).toEqual({ out: 'from skiff\n', err: 'oops\n', code: 4 });

    // Port-forward: the agent dials the pod's IP and relays an HTTP exchange.
    const reply = await new Promise<string>((resolve, reject) => {
      const s = nodeAgent.portForward();
      let out = '';
      s.on('data', (f: PortForwardFrame) => (out += Buffer.from(f.data).toString()));
      s.on('end', () => resolve(out));
      s.on('error', reject);
      s.write({ namespace: 'default', pod: 'hello', port: 8080, data: Buffer.from('GET / HTTP/1.0\r\nHost: x\r\n\r\n') });
      s.end();
    });
    expect(reply).toMatch(/^HTTP\/1\.[01] 200/);
    expect(reply).toContain('from skiff');
    nodeAgent.close();

    // Interactive exec through the control plane (the CLI's own code path), over CRI's
    // streaming Exec: stdin in, stdout and stderr apart without a terminal, the exit code out.
    const ctx = makeCtx({
      settings: { server: `127.0.0.1:${server!.port}`, token: '', namespace: 'default', origin: { server: 'flag', token: 'default', namespace: 'default' }, tls: TEST_CLIENT_TLS },
      explicitNamespace: false, interactive: false, timeoutMs: 10_000,
      stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) },
    });
    let out = '';
    let err = '';
    const piped = Object.assign(new PassThrough(), { isTTY: false });
    piped.end('hello\n');
    const code = await execCommand(ctx, 'hello', ['sh', '-c', 'read x; echo "got $x"; echo oops >&2; exit 3'], { container: 'web', stdin: true, tty: false, terminal: { input: piped } });
    expect({ code, out, err }).toEqual({ code: 3, out: 'got hello\n', err: 'oops\n' });

    // With a terminal: a shell reads lines from it, echoes them, and its exit code comes back.
    out = '';
    err = '';
    const raw: boolean[] = [];
    const keyboard = Object.assign(new PassThrough(), { isTTY: true, setRawMode: (on: boolean) => raw.push(on) });
    keyboard.write('echo $((6*7))\r');
    keyboard.write('exit 5\r');
    const ttyCode = await execCommand(ctx, 'hello', ['sh'], {
      container: 'web', stdin: true, tty: true,
      terminal: { input: keyboard, size: () => ({ columns: 100, rows: 30 }), onResize: () => () => undefined },
    });
    ctx.close();
    expect(ttyCode).toBe(5);
    expect(out).toMatch(/\r?\n42\r?\n/);
    expect(err).toBe('');
    expect(raw).toEqual([true, false]);

    await client!.delete({ kind: 'Pod', namespace: 'default', name: 'hello' });
    await until(async () => (await getPod('hello')) === undefined, 60_000, 'pod removed');
    // The agent confirms the deletion once the containers are stopped; the sandbox goes after.
    await until(async () => (await agent!.runtime.discover()).sandboxes.length === 0, 30_000, 'sandbox removed');
    const left = await agent!.runtime.discover();
    expect(left.sandboxes).toEqual([]);
    expect(left.containers).toEqual([]);
  });
});
