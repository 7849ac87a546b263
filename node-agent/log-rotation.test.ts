import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { isRotatedOf, LogRotator, planRotation, rotationSuffix, type LogSnapshot } from './log-rotation.js';
import { FakeRuntime } from './runtime/fake/driver.js';
import { FakeHost } from './runtime/fake/host.js';
import type { ContainerHandle } from './runtime/runtime.js';

const handle = { containerId: 'c1' } as ContainerHandle;
const now = new Date('2026-12-02T04:05:06.789Z');
const snap = (size: number, rotated: string[] = []): LogSnapshot => ({ handle, path: '/l/app/0.log', size, rotated });

describe('planRotation', () => {
  it('names rotated files like the kubelet and recognises only those', () => {
    expect(rotationSuffix(now)).toBe('20261202-040506');
    expect(isRotatedOf('0.log', '0.log.20261202-040506')).toBe(true);
    expect(isRotatedOf('0.log', '10.log.20261202-040506')).toBe(false);
    expect(isRotatedOf('0.log', '0.log.20261202-040506.gz')).toBe(false);
    expect(isRotatedOf('0.log', '0.log')).toBe(false);
  });

  it('rotates a log beyond the size, not one at it', () => {
    expect(planRotation([snap(100)], 100, 5, now)).toEqual({ remove: [], rotate: [] });
    expect(planRotation([snap(101)], 100, 5, now)).toEqual({ remove: [], rotate: [{ handle, from: '/l/app/0.log', to: '/l/app/0.log.20261202-040506' }] });
  });

  it('keeps max-files files in all, removing the oldest rotated ones first', () => {
    const rotated = ['/l/app/0.log.20261202-040003', '/l/app/0.log.20261202-040001', '/l/app/0.log.20261202-040002'];
    // Not rotating: 3 rotated + the live file fit in 4; in 3 the oldest goes.
    expect(planRotation([snap(1, rotated)], 100, 4, now).remove).toEqual([]);
    expect(planRotation([snap(1, rotated)], 100, 3, now).remove).toEqual(['/l/app/0.log.20261202-040001']);
    // Rotating makes one more rotated file: room is made before.
    const p = planRotation([snap(101, rotated)], 100, 3, now);
    expect(p.remove).toEqual(['/l/app/0.log.20261202-040001', '/l/app/0.log.20261202-040002']);
    expect(p.rotate).toHaveLength(1);
  });

  it('does not rotate twice within one second', () => {
    expect(planRotation([snap(101, ['/l/app/0.log.20261202-040506'])], 100, 5, now).rotate).toEqual([]);
  });
});

describe('LogRotator on the fake runtime', () => {
  let dir = '';
  let rt: FakeRuntime | undefined;
  afterEach(async () => {
    await rt?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('rotates a running container\'s big log, reopens it, and prunes old rotations', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-rotate-'));
    rt = new FakeRuntime({ host: new FakeHost(), nodeName: 'n1' });
    const sbCfg = {
      podUid: 'u1', podName: 'p', podNamespace: 'ns', attempt: 0, hostNetwork: false, hostname: '', portMappings: [],
      labels: {}, annotations: {}, logDirectory: join(dir, 'pod'), cpuMillisLimit: 0, memoryBytesLimit: 0,
    };
    const sb = await rt.startSandbox(sbCfg);
    const ct = await rt.startContainer(sb, sbCfg, {
      name: 'app', image: 'skiff/hello:1', command: ['sh', '-c', 'sleep infinity'], args: [], env: [], workingDir: '', mounts: [],
      attempt: 0, logPath: 'app/0.log', cpuMillisLimit: 0, cpuMillisRequest: 0, memoryBytesLimit: 0, labels: {}, annotations: {}, tty: false, stdin: false,
    });
    const path = (await rt.inspectContainer(ct)).logPath;
    await mkdir(join(dir, 'pod', 'app'), { recursive: true });
    await writeFile(path, 'x'.repeat(2048));
    for (const old of ['20261202-000001', '20261202-000002']) await writeFile(`${path}.${old}`, 'old');
    const rotator = new LogRotator({ runtime: rt, maxSize: 1024, maxFiles: 3, log: pino({ level: 'silent' }), now: () => now });
    const plan = await rotator.once();
    expect(plan.rotate.map((r) => r.to)).toEqual([`${path}.20261202-040506`]);
    expect((await readdir(join(dir, 'pod', 'app'))).sort()).toEqual(['0.log', '0.log.20261202-000002', '0.log.20261202-040506']);
    expect(await readFile(path, 'utf8')).toBe('');
    expect((await readFile(`${path}.20261202-040506`, 'utf8')).length).toBe(2048);
    // A small live log is left alone.
    expect((await rotator.once()).rotate).toEqual([]);
  });
});
