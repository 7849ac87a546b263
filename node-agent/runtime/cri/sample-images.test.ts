// The sample images (deploy/images) on a real containerd through the CRI runtime: hello
// answers over the pod IP and a host port, shuts down cleanly on SIGTERM, pulls from a plain
// HTTP registry; crasher crashes the way it says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startContainerd, type Containerd } from '../../../test/helpers/containerd.js';
import { sampleImage } from '../../../test/helpers/images.js';
import { freePort } from '../../../test/helpers/ports.js';
import { startRegistry, type Registry } from '../../../test/helpers/registry.js';
import { until } from '../../../test/helpers/wait.js';
import type { ContainerConfig, SandboxConfig, SandboxHandle } from '../runtime.js';
import { CriRuntime } from './driver.js';

let registry: Registry | undefined;
let containerd: Containerd | undefined;
let rt: CriRuntime;
let logRoot: string;
const sandboxes: SandboxHandle[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  // hello:2 only in the registry: the node has to pull it.
  const all = await Promise.all(['skiff/pause:1', 'skiff/hello:1', 'skiff/crasher:1', 'skiff/burner:1'].map(sampleImage));
  containerd = await startContainerd({ registries: [registry.host], images: all });
  rt = new CriRuntime({ address: containerd.address, nodeName: 'node-img', pollIntervalMs: 100 });
  logRoot = await mkdtemp(join(tmpdir(), 'skiff-images-'));
}, 120_000);

afterAll(async () => {
  for (const sb of sandboxes) await rt?.destroySandbox(sb).catch(() => undefined);
  await rt?.close();
  await containerd?.stop();
  await registry?.stop();
  if (logRoot) await rm(logRoot, { recursive: true, force: true });
}, 120_000);

let n = 0;
async function run(image: string, over: Partial<SandboxConfig> = {}, ct: Partial<ContainerConfig> = {}) {
  const sbCfg: SandboxConfig = {
    podUid: `img-${++n}`, podName: `img-${n}`, podNamespace: 'default', attempt: 0, hostNetwork: false, hostname: '',
    portMappings: [], labels: {}, annotations: {}, logDirectory: join(logRoot, `img-${n}`), cpuMillisLimit: 0, memoryBytesLimit: 0, ...over,
  };
  const sb = await rt.startSandbox(sbCfg);
  sandboxes.push(sb);
  const h = await rt.startContainer(sb, sbCfg, {
    name: 'app', image, command: [], args: [], env: [], workingDir: '', mounts: [], attempt: 0, logPath: 'app/0.log',
    cpuMillisLimit: 200, cpuMillisRequest: 100, memoryBytesLimit: 32 << 20, labels: {}, annotations: {}, tty: false, stdin: false, ...ct,
  });
  return { sb, h, podName: sbCfg.podName };
}

async function get(url: string): Promise<string> {
  let body = '';
  await until(async () => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      body = await res.text();
      return res.ok;
    } catch {
      return false;
    }
  }, 20_000, `GET ${url}`);
  return body;
}

describe('sample images on containerd', () => {
  it('hello:1 answers its greeting on the pod IP and a host port, and stops cleanly', async () => {
    const hostPort = await freePort();
    const { sb, h, podName } = await run(
      'skiff/hello:1',
      { portMappings: [{ containerPort: 8080, hostPort, protocol: 'TCP', hostIP: '' }] },
      { env: [{ name: 'GREETING', value: 'hi "there"' }] },
    );
    // The pod's hostname is its name: the reply says which replica answered.
    expect(JSON.parse(await get(`http://${sb.podIP}:8080/`))).toEqual({ msg: 'hi "there"', version: '1', pod: podName });
    expect(await get(`http://${sb.podIP}:8080/health`)).toBe('ok\n');
    expect(JSON.parse(await get(`http://127.0.0.1:${hostPort}/`))).toEqual({ msg: 'hi "there"', version: '1', pod: podName });
    await rt.stopContainer(h, 30);
    expect(await rt.waitContainer(h)).toMatchObject({ exitCode: 0, reason: 'Completed' });
  });

  it('hello:2 is pulled from the plain-HTTP registry and reports version 2', async () => {
    if (!registry) throw new Error('no registry');
    const ref = await registry.push(await sampleImage('skiff/hello:2'));
    await expect(rt.ensureImage(ref, 'Never')).rejects.toMatchObject({ reason: 'ErrImageNeverPull' });
    // Pull secrets travel as CRI AuthConfig; this registry accepts anyone.
    const imageRef = await rt.ensureImage(ref, 'IfNotPresent', { username: 'u', password: 'p', serverAddress: registry.host });
    expect(imageRef).toMatch(/^sha256:/);
    expect(await rt.ensureImage(ref, 'Always')).toBe(imageRef);
    const { sb, podName } = await run(ref);
    expect(JSON.parse(await get(`http://${sb.podIP}:8080/`))).toEqual({ msg: 'hello', version: '2', pod: podName });
  });

  it('burner spins for the milliseconds a request asks, using CPU in its container', async () => {
    const { sb, h, podName } = await run('skiff/burner:1', {}, { cpuMillisLimit: 0 });
    expect(await get(`http://${sb.podIP}:8080/health`)).toBe('ok\n');
    const before = (await rt.stats(h)).cpuUsageCoreNanoSeconds;
    const reply = JSON.parse(await get(`http://${sb.podIP}:8080/cgi-bin/burn?ms=300`)) as { pod: string; burnedMs: number; loops: number };
    expect(reply).toMatchObject({ pod: podName, burnedMs: 300 });
    expect(reply.loops).toBeGreaterThan(0);
    // The spin runs in the container's cgroup (how much CPU it gets depends on the machine's load).
    expect((await rt.stats(h)).cpuUsageCoreNanoSeconds - before).toBeGreaterThan(10_000_000);
    await rt.stopContainer(h, 30);
    expect(await rt.waitContainer(h)).toMatchObject({ exitCode: 0, reason: 'Completed' });
  });

  it('crasher prints a line and exits 1', async () => {
    const { h } = await run('skiff/crasher:1', {}, { env: [{ name: 'CRASH_AFTER', value: '1' }] });
    const exit = await rt.waitContainer(h);
    expect(exit).toMatchObject({ exitCode: 1, reason: 'Error' });
    const log = await readFile((await rt.inspectContainer(h)).logPath, 'utf8');
    expect(log).toMatch(/stdout F crasher: starting, exiting with code 1 in 1s/);
  });
});
