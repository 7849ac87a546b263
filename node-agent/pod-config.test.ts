import { mkdir, mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fromManifest, type JsonObject } from '../proto/api/manifest.js';
import type { Container, Pod } from '../proto/gen/skiff/v1/core.js';
import { containerConfig, containerMounts, podPaths, pullPolicy, sandboxConfig } from './pod-config.js';
import { RuntimeError } from './runtime/runtime.js';

const pod = (spec: JsonObject): Pod =>
  fromManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec }).object as Pod;
const ctr = (c: JsonObject): Container => pod({ containers: [c] }).spec!.containers[0]!;

describe('pullPolicy defaults', () => {
  const cases: [string, string, string][] = [
    ['busybox', '', 'Always'],
    ['busybox:latest', '', 'Always'],
    ['busybox:1', '', 'IfNotPresent'],
    ['127.0.0.1:5000/app', '', 'Always'],
    ['127.0.0.1:5000/app:2', '', 'IfNotPresent'],
    ['app@sha256:abc', '', 'IfNotPresent'],
    ['busybox:latest', 'Never', 'Never'],
  ];
  for (const [image, policy, want] of cases) {
    it(`${image} ${policy || '(unset)'} -> ${want}`, () => {
      expect(pullPolicy(ctr({ name: 'c', image, ...(policy ? { imagePullPolicy: policy } : {}) }))).toBe(want);
    });
  }
});

describe('sandbox and container configs', () => {
  it('maps host ports, pod limits and the log directory', () => {
    const p = pod({
      containers: [
        { name: 'a', image: 'i:1', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81 }], resources: { limits: { cpu: '500m', memory: '64Mi' } } },
        { name: 'b', image: 'i:1', resources: { limits: { cpu: '1', memory: '64Mi' } } },
      ],
      hostNetwork: true,
    });
    const cfg = sandboxConfig(p, podPaths('/state', { namespace: 'ns', name: 'p', uid: 'u1' }));
    expect(cfg.portMappings).toEqual([{ containerPort: 80, hostPort: 8080, protocol: 'TCP', hostIP: '' }]);
    expect(cfg).toMatchObject({ hostNetwork: true, cpuMillisLimit: 1500, memoryBytesLimit: 128 * 2 ** 20, logDirectory: '/state/logs/ns_p_u1' });
  });

  it('passes command, env, user and limits; logs to <name>/<attempt>.log', () => {
    const p = pod({
      securityContext: { runAsUser: 1000 },
      containers: [{
        name: 'a', image: 'i:1', command: ['/bin/app'], args: ['-v'], workingDir: '/w', env: [{ name: 'K', value: 'V' }],
        resources: { limits: { memory: '1Gi' }, requests: { cpu: '100m' } },
      }],
    });
    const cfg = containerConfig(p, p.spec!.containers[0]!, 3, []);
    expect(cfg).toMatchObject({
      command: ['/bin/app'], args: ['-v'], workingDir: '/w', env: [{ name: 'K', value: 'V' }], runAsUser: 1000,
      memoryBytesLimit: 2 ** 30, cpuMillisRequest: 100, attempt: 3, logPath: 'a/3.log',
    });
  });

  it('rejects runAsNonRoot with uid 0 as CreateContainerConfigError', () => {
    const p = pod({ securityContext: { runAsNonRoot: true }, containers: [{ name: 'a', image: 'i:1', securityContext: { runAsUser: 0 } }] });
    let err: unknown;
    try {
      containerConfig(p, p.spec!.containers[0]!, 0, []);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).reason).toBe('CreateContainerConfigError');
  });
});

describe('volumes', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates emptyDirs under the pod dir and DirectoryOrCreate host paths; rejects a missing Directory', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-vol-'));
    const hp = join(dir, 'host', 'made');
    const p = pod({
      volumes: [{ name: 'e', emptyDir: {} }, { name: 'h', hostPath: { path: hp, type: 'DirectoryOrCreate' } }, { name: 'm', hostPath: { path: join(dir, 'missing'), type: 'Directory' } }],
      containers: [
        { name: 'a', image: 'i:1', volumeMounts: [{ name: 'e', mountPath: '/e' }, { name: 'h', mountPath: '/h', readOnly: true }] },
        { name: 'b', image: 'i:1', volumeMounts: [{ name: 'm', mountPath: '/m' }] },
        { name: 'c', image: 'i:1', volumeMounts: [{ name: 'nope', mountPath: '/x' }] },
      ],
    });
    const paths = podPaths(dir, { namespace: 'ns', name: 'p', uid: 'u1' });
    const mounts = await containerMounts(p, p.spec!.containers[0]!, paths);
    expect(mounts).toEqual([
      { containerPath: '/e', hostPath: join(dir, 'pods', 'u1', 'volumes', 'e'), readOnly: false },
      { containerPath: '/h', hostPath: hp, readOnly: true },
    ]);
    expect((await stat(mounts[0]!.hostPath)).isDirectory()).toBe(true);
    expect((await stat(hp)).isDirectory()).toBe(true);
    await expect(containerMounts(p, p.spec!.containers[1]!, paths)).rejects.toThrow(/is not a directory/);
    await expect(containerMounts(p, p.spec!.containers[2]!, paths)).rejects.toThrow(/names no volume/);
  });

  it('mounts a claim at the directory its resolver gives, read-only when the volume says so', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-vol-'));
    const p = pod({
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }, { name: 'r', persistentVolumeClaim: { claimName: 'ref', readOnly: true } }],
      containers: [{ name: 'a', image: 'i:1', volumeMounts: [{ name: 'd', mountPath: '/d', subPath: 'sub' }, { name: 'r', mountPath: '/r' }] }],
    });
    const paths = podPaths(dir, { namespace: 'ns', name: 'p', uid: 'u1' });
    const asked: string[] = [];
    const resolver = (_pod: Pod, src: { claimName: string }): Promise<string> => {
      asked.push(src.claimName);
      return Promise.resolve(join(dir, 'lp', `pvc-${src.claimName}`));
    };
    expect(await containerMounts(p, p.spec!.containers[0]!, paths, resolver)).toEqual([
      { containerPath: '/d', hostPath: join(dir, 'lp', 'pvc-data', 'sub'), readOnly: false },
      { containerPath: '/r', hostPath: join(dir, 'lp', 'pvc-ref'), readOnly: true },
    ]);
    expect(asked).toEqual(['data', 'ref']);
    await expect(containerMounts(p, p.spec!.containers[0]!, paths)).rejects.toThrow(/cannot mount claims/);
  });

  it('refuses a subPath that leaves its volume, by "..", by an absolute path or through a symlink', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-vol-'));
    const paths = podPaths(dir, { namespace: 'ns', name: 'p', uid: 'u1' });
    const outside = join(dir, 'outside');
    await mkdir(outside);
    const emptyDir = join(paths.volumesDir, 'e');
    await mkdir(emptyDir, { recursive: true });
    // What a container could plant in its own volume: a link to a host directory.
    await symlink(outside, join(emptyDir, 'link'));
    const mountWith = (subPath: string): Promise<unknown> => {
      const p = pod({ volumes: [{ name: 'e', emptyDir: {} }], containers: [{ name: 'a', image: 'i:1', volumeMounts: [{ name: 'e', mountPath: '/e', subPath }] }] });
      return containerMounts(p, p.spec!.containers[0]!, paths);
    };
    await expect(mountWith('../../../outside')).rejects.toThrow(/subPath "..\/..\/..\/outside" leaves the volume/);
    await expect(mountWith('a/../../x')).rejects.toThrow(/leaves the volume/);
    await expect(mountWith('/etc')).rejects.toThrow(/leaves the volume/);
    await expect(mountWith('link')).rejects.toThrow(/resolves to .*outside, outside the volume/);
    await expect(mountWith('link/made')).rejects.toThrow(/outside the volume/);
    // The refusal comes before mkdir: nothing was created on the host through the link.
    expect(existsSync(join(outside, 'made'))).toBe(false);
    const ok = (await mountWith('a/./b')) as { hostPath: string }[];
    expect(ok[0]!.hostPath).toBe(join(emptyDir, 'a', 'b'));
  });
});
