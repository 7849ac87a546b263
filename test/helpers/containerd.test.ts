// The test containerd cleans up after itself, and after a test process that died without
// stopping its containerd (the next start sweeps what is left).
import { execFile } from 'node:child_process';
import { access, readFile, readdir, utimes } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CriRuntime } from '../../node-agent/runtime/cri/driver.js';
import { startContainerd, type Containerd } from './containerd.js';
import { sampleImage } from './images.js';

const run = promisify(execFile);
const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);
const bridgeExists = (b: string): Promise<boolean> => run('ip', ['link', 'show', b]).then(() => true, () => false);
const mountsUnder = async (dir: string): Promise<number> =>
  (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.split(' ')[4]?.startsWith(dir)).length;
async function shimsOf(socket: string): Promise<number> {
  let n = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (args[0]?.includes('containerd-shim') && args.includes(socket)) n++;
  }
  return n;
}

async function runPod(d: Containerd): Promise<void> {
  const rt = new CriRuntime({ address: d.address });
  const sbCfg = {
    podUid: 'sweep', podName: 'sweep', podNamespace: 'default', attempt: 0, hostNetwork: false, hostname: '', portMappings: [],
    labels: {}, annotations: {}, logDirectory: `${d.stateDir}/logs`, cpuMillisLimit: 0, memoryBytesLimit: 0,
  };
  const sb = await rt.startSandbox(sbCfg);
  await rt.startContainer(sb, sbCfg, {
    name: 'c', image: 'skiff/hello:1', command: ['sleep', '1000'], args: [], env: [], workingDir: '', mounts: [], attempt: 0,
    logPath: 'c/0.log', cpuMillisLimit: 0, cpuMillisRequest: 0, memoryBytesLimit: 0, labels: {}, annotations: {}, tty: false, stdin: false,
  });
  await rt.close();
}

describe('test containerd', () => {
  it('stop() leaves no process, mount, bridge or directory behind', async () => {
    const images = await Promise.all(['skiff/pause:1', 'skiff/hello:1'].map(sampleImage));
    const d = await startContainerd({ images });
    await runPod(d);
    expect(await bridgeExists(d.bridge)).toBe(true);
    expect(await shimsOf(d.socket)).toBeGreaterThan(0);
    await d.stop();
    expect(await exists(d.stateDir)).toBe(false);
    expect(await bridgeExists(d.bridge)).toBe(false);
    expect(await mountsUnder(d.stateDir)).toBe(0);
    expect(await shimsOf(d.socket)).toBe(0);
  });

  it('sweeps what a crashed test left: shims, mounts, bridge and state dir', async () => {
    const images = await Promise.all(['skiff/pause:1', 'skiff/hello:1'].map(sampleImage));
    const crashed = await startContainerd({ images });
    await runPod(crashed);
    const exited = new Promise((r) => crashed.process.once('exit', r));
    crashed.process.kill('SIGKILL');
    await exited;
    const old = new Date(Date.now() - 120_000);
    await utimes(crashed.stateDir, old, old);
    expect(await shimsOf(crashed.socket)).toBeGreaterThan(0);

    const next = await startContainerd({ images: [] });
    try {
      expect(await exists(crashed.stateDir)).toBe(false);
      expect(await bridgeExists(crashed.bridge)).toBe(false);
      expect(await mountsUnder(crashed.stateDir)).toBe(0);
      expect(await shimsOf(crashed.socket)).toBe(0);
    } finally {
      await next.stop();
    }
  });
});
