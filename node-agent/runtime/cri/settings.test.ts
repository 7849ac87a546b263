// CRI-only effects the fake cannot show: host mounts, cgroup limits, users and groups really
// applied by runc on a real containerd.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContainerd, type Containerd } from '../../../test/helpers/containerd.js';
import { sampleImage } from '../../../test/helpers/images.js';
import type { ContainerConfig, ContainerHandle, SandboxConfig, SandboxHandle } from '../runtime.js';
import { CriRuntime } from './driver.js';

let containerd: Containerd | undefined;
let rt: CriRuntime;
let dir: string;
const sandboxes: SandboxHandle[] = [];

beforeAll(async () => {
  containerd = await startContainerd({ images: await Promise.all(['skiff/pause:1', 'skiff/hello:1'].map(sampleImage)) });
  // Exits by relisting alone, the fallback for runtimes without events.
  rt = new CriRuntime({ address: containerd.address, nodeName: 'node-s', pollIntervalMs: 100, exitEvents: false });
  dir = await mkdtemp(join(tmpdir(), 'skiff-settings-'));
}, 120_000);

afterAll(async () => {
  for (const sb of sandboxes) await rt?.destroySandbox(sb).catch(() => undefined);
  await rt?.close();
  await containerd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 120_000);

let n = 0;
async function start(ct: Partial<ContainerConfig>, over: Partial<SandboxConfig> = {}): Promise<ContainerHandle> {
  const sbCfg: SandboxConfig = {
    podUid: `s-${++n}`, podName: `s-${n}`, podNamespace: 'default', attempt: 0, hostNetwork: false, hostname: '', portMappings: [],
    labels: {}, annotations: {}, logDirectory: join(dir, `logs-${n}`), cpuMillisLimit: 0, memoryBytesLimit: 0, ...over,
  };
  const sb = await rt.startSandbox(sbCfg);
  sandboxes.push(sb);
  return rt.startContainer(sb, sbCfg, {
    name: 'c', image: 'skiff/hello:1', command: ['sleep', '1000'], args: [], env: [], workingDir: '', mounts: [], attempt: 0,
    logPath: 'c/0.log', cpuMillisLimit: 0, cpuMillisRequest: 0, memoryBytesLimit: 0, labels: {}, annotations: {}, tty: false, stdin: false, ...ct,
  });
}

async function sh(h: ContainerHandle, script: string): Promise<string> {
  const r = await rt.exec(h, ['sh', '-c', script], 10);
  return `${r.stdout.toString()}${r.stderr.toString()}`.trim();
}

describe('CRI container settings', () => {
  it('mounts host paths read-write and read-only', async () => {
    const rw = join(dir, 'rw');
    const ro = join(dir, 'ro');
    await Promise.all([rw, ro].map((d) => mkdir(d)));
    await writeFile(join(ro, 'config'), 'from the host\n');
    const h = await start({ mounts: [{ containerPath: '/data', hostPath: rw, readOnly: false }, { containerPath: '/etc/app', hostPath: ro, readOnly: true }] });
    expect(await sh(h, 'echo written > /data/out && cat /etc/app/config')).toBe('from the host');
    expect(await readFile(join(rw, 'out'), 'utf8')).toBe('written\n');
    const denied = await rt.exec(h, ['sh', '-c', 'echo x > /etc/app/nope'], 10);
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr.toString()).toMatch(/Read-only file system/);
  });

  it('applies CPU and memory limits to the container cgroup', async () => {
    const h = await start({ cpuMillisLimit: 500, cpuMillisRequest: 250, memoryBytesLimit: 64 << 20 });
    expect(await sh(h, 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us')).toBe('50000');
    expect(await sh(h, 'cat /sys/fs/cgroup/cpu/cpu.cfs_period_us')).toBe('100000');
    expect(await sh(h, 'cat /sys/fs/cgroup/cpu/cpu.shares')).toBe('256');
    expect(await sh(h, 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes')).toBe(String(64 << 20));
  });

  it('runs as the given user and group, and the pod group alone keeps the image user', async () => {
    const h = await start({ runAsUser: 1000, runAsGroup: 3000 }, { supplementalGroups: [4000] });
    expect(await sh(h, 'id -u; id -g; id -G')).toBe('1000\n3000\n3000 4000');
    const g = await start({}, { runAsGroup: 5000 });
    expect(await sh(g, 'id -u; id -g')).toBe('0\n5000');
  });

  it('reports a container killed by the cgroup OOM killer as OOMKilled', async () => {
    // tail buffers /dev/zero (it never sees a newline) until the 16 MiB limit is hit.
    const h = await start({ command: ['tail', '/dev/zero'], memoryBytesLimit: 16 << 20 });
    expect(await rt.waitContainer(h)).toMatchObject({ exitCode: 137, reason: 'OOMKilled', oomKilled: true });
  });

  it('sets the hostname to the pod name, and runs a read-only root filesystem', async () => {
    const h = await start({ readOnlyRootFilesystem: true });
    expect(await sh(h, 'hostname')).toBe(`s-${n}`);
    expect((await rt.exec(h, ['sh', '-c', 'touch /newfile'], 10)).exitCode).not.toBe(0);
  });
});
