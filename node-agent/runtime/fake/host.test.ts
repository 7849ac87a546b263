import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerConfig, SandboxConfig } from '../runtime.js';
import { FakeRuntime } from './driver.js';
import { FakeHost, normalizeImage } from './host.js';

const sandbox = (n: number, over: Partial<SandboxConfig> = {}): SandboxConfig => ({
  podUid: `u${n}`, podName: `p${n}`, podNamespace: 'ns', attempt: 0, hostNetwork: false, hostname: '', portMappings: [],
  labels: {}, annotations: {}, logDirectory: '', cpuMillisLimit: 0, memoryBytesLimit: 0, ...over,
});
const container = (image: string, over: Partial<ContainerConfig> = {}): ContainerConfig => ({
  name: 'c', image, command: [], args: [], env: [], workingDir: '', mounts: [], attempt: 0, logPath: '',
  cpuMillisLimit: 0, cpuMillisRequest: 0, memoryBytesLimit: 0, labels: {}, annotations: {}, tty: false, stdin: false, ...over,
});

const hosts: FakeHost[] = [];
afterEach(() => {
  for (const h of hosts.splice(0)) h.shutdown();
});
function fake(opts: ConstructorParameters<typeof FakeHost>[0] = {}, nodeName = 'n'): FakeRuntime {
  const host = new FakeHost(opts);
  hosts.push(host);
  return new FakeRuntime({ host, nodeName });
}

describe('fake runtime specifics', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx:latest'],
    ['skiff/hello:1', 'docker.io/skiff/hello:1'],
    ['127.0.0.1:5000/a/b:2', '127.0.0.1:5000/a/b:2'],
    ['localhost/x', 'localhost/x:latest'],
    ['ghcr.io/o/r@sha256:abc', 'ghcr.io/o/r@sha256:abc'],
  ])('normalizes %s like containerd', (ref, want) => {
    expect(normalizeImage(ref)).toBe(want);
  });

  it('hands out pod IPs from the CIDR and takes them back on stop', async () => {
    const rt = fake({ podCidr: '10.9.8.0/30' });
    const a = await rt.startSandbox(sandbox(1));
    expect(a.podIP).toBe('10.9.8.2');
    await expect(rt.startSandbox(sandbox(2))).rejects.toThrow('pod CIDR exhausted');
    await rt.stopSandbox(a);
    expect((await rt.startSandbox(sandbox(3))).podIP).toBe('10.9.8.2');
  });

  it('takes the pod CIDR the agent learns later, but not while IPs of the old one are in use', async () => {
    const rt = fake({ podCidr: '10.9.8.0/30' });
    await rt.updatePodCIDR('10.7.6.0/24');
    const a = await rt.startSandbox(sandbox(1));
    expect(a.podIP).toBe('10.7.6.2');
    await expect(rt.updatePodCIDR('10.7.7.0/24')).rejects.toThrow('pod CIDR cannot change to 10.7.7.0/24 while 1 pod IPs are in use');
    await rt.updatePodCIDR('10.7.6.0/24');
  });

  it('fails pulls of marked or configured images', async () => {
    const rt = fake({ imageConfig: { 'example.com/private:1': { pullError: 'unauthorized' } } });
    await expect(rt.ensureImage('example.com/app:fail-pull', 'IfNotPresent')).rejects.toMatchObject({ reason: 'ErrImagePull' });
    await expect(rt.ensureImage('example.com/private:1', 'Always')).rejects.toThrow('unauthorized');
    expect(await rt.ensureImage('example.com/fine:1', 'IfNotPresent')).toMatch(/^sha256:/);
    expect(await rt.ensureImage('example.com/fine:1', 'Never')).toMatch(/^sha256:/);
  });

  it('crashes images marked crash-<ms>-<code> and OOM-kills oom-<ms>', async () => {
    const rt = fake({ images: ['x/app:crash-20-7', 'x/app:oom-10'] });
    const sb = await rt.startSandbox(sandbox(1));
    const crash = await rt.startContainer(sb, sandbox(1), container('x/app:crash-20-7'));
    expect(await rt.waitContainer(crash)).toMatchObject({ exitCode: 7, reason: 'Error' });
    const oom = await rt.startContainer(sb, sandbox(1), container('x/app:oom-10', { name: 'o' }));
    expect(await rt.waitContainer(oom)).toMatchObject({ exitCode: 137, reason: 'OOMKilled', oomKilled: true });
  });

  it('runs the sample crasher with its CRASH_AFTER', async () => {
    const rt = fake();
    const sb = await rt.startSandbox(sandbox(1));
    const c = await rt.startContainer(sb, sandbox(1), container('skiff/crasher:1', { env: [{ name: 'CRASH_AFTER', value: '0.01' }] }));
    expect(await rt.waitContainer(c)).toMatchObject({ exitCode: 1, reason: 'Error' });
  });

  it('never passes exec checks for never-ready images, and scripts crashes on demand', async () => {
    const rt = fake({ images: ['x/app:never-ready'] });
    const sb = await rt.startSandbox(sandbox(1));
    const c = await rt.startContainer(sb, sandbox(1), container('x/app:never-ready'));
    expect((await rt.exec(c, ['true'], 1)).exitCode).toBe(1);
    rt.crash(c, 2);
    expect(await rt.waitContainer(c)).toMatchObject({ exitCode: 2, reason: 'Error' });
    await expect(rt.exec(c, ['true'], 1)).rejects.toMatchObject({ reason: 'ExecError' });
  });

  it('waits out the configured latencies', async () => {
    const rt = fake({ pullLatencyMs: 30, sandboxLatencyMs: 30, startLatencyMs: 30 });
    let settled = false;
    const pull = rt.ensureImage('x/y:1', 'Always').then(() => (settled = true));
    expect(settled).toBe(false);
    await pull;
    expect(settled).toBe(true);
    const sb = await rt.startSandbox(sandbox(1));
    const starting = rt.startContainer(sb, sandbox(1), container('x/y:1'));
    await Promise.resolve();
    const [c] = [...rt.host.containers.values()];
    expect(c?.state).toBe('created');
    // A container stopped while it is still starting never runs.
    await rt.stopContainer({ version: 1, runtime: 'fake', sandboxId: sb.sandboxId, containerId: c?.id ?? '', name: 'c', attempt: 0 }, 10);
    await expect(starting).rejects.toMatchObject({ reason: 'RunContainerError' });
    expect(c?.exitCode).toBe(137);
  });

  it('scopes discover() to its node', async () => {
    const host = new FakeHost();
    hosts.push(host);
    const a = new FakeRuntime({ host, nodeName: 'a' });
    const b = new FakeRuntime({ host, nodeName: 'b' });
    await a.startSandbox(sandbox(1));
    expect((await a.discover()).sandboxes).toHaveLength(1);
    expect((await b.discover()).sandboxes).toHaveLength(0);
  });

  it('keeps hundreds of simulated nodes cheap', async () => {
    const runtimes = Array.from({ length: 300 }, (_, i) => fake({ podCidr: `10.${100 + (i >> 8)}.${i & 255}.0/24` }, `node-${i}`));
    for (const rt of runtimes) {
      const sb = await rt.startSandbox(sandbox(1));
      await rt.startContainer(sb, sandbox(1), container('skiff/hello:1'));
    }
    const all = await Promise.all(runtimes.map((rt) => rt.discover()));
    expect(all.every((d) => d.containers.length === 1 && d.containers[0]?.info.state === 'running')).toBe(true);
  });
});
