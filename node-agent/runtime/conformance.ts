// The one behaviour every Runtime must show, as a vitest suite: fake.test.ts runs it on the
// fake runtime, cri.test.ts on a real containerd. Whatever the agent relies on belongs here, so
// the fake cannot drift from the real thing.
import { mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeError, type ContainerConfig, type ContainerHandle, type Runtime, type SandboxConfig, type SandboxHandle } from './runtime.js';

export interface ConformanceOptions {
  /** A present image with busybox (sh, sleep, trap, env, pwd, cat), e.g. skiff/hello:1. */
  image: string;
  /** An image that is neither present nor pullable. */
  missingImage: string;
}

let seq = 0;

export function runtimeConformance(name: string, makeRuntime: () => Runtime | Promise<Runtime>, opts: ConformanceOptions): void {
  describe(`runtime conformance: ${name}`, () => {
    let rt: Runtime;
    let logRoot: string;
    const sandboxes: SandboxHandle[] = [];
    const extra: Runtime[] = [];

    beforeAll(async () => {
      rt = await makeRuntime();
      logRoot = await mkdtemp(join(tmpdir(), 'skiff-conformance-'));
    });
    afterEach(async () => {
      for (const sb of sandboxes.splice(0)) await rt.destroySandbox(sb);
      for (const r of extra.splice(0)) await r.close();
    });
    afterAll(async () => {
      await rt?.close();
      if (logRoot) await rm(logRoot, { recursive: true, force: true });
    });

    function sandboxConfig(over: Partial<SandboxConfig> = {}): SandboxConfig {
      const n = ++seq;
      return {
        podUid: `uid-${process.pid}-${n}`,
        podName: `pod-${n}`,
        podNamespace: 'conformance',
        attempt: 0,
        hostNetwork: false,
        hostname: '',
        portMappings: [],
        labels: { app: 'conformance' },
        annotations: { note: 'kept as given' },
        logDirectory: join(logRoot, `pod-${n}`),
        cpuMillisLimit: 0,
        memoryBytesLimit: 0,
        ...over,
      };
    }

    function containerConfig(over: Partial<ContainerConfig> = {}): ContainerConfig {
      return {
        name: 'main',
        image: opts.image,
        command: ['sh', '-c', 'sleep 1000'],
        args: [],
        env: [],
        workingDir: '',
        mounts: [],
        attempt: 0,
        logPath: 'main/0.log',
        cpuMillisLimit: 0,
        cpuMillisRequest: 0,
        memoryBytesLimit: 0,
        labels: {},
        annotations: {},
        tty: false,
        stdin: false,
        ...over,
      };
    }

    async function pod(sbOver: Partial<SandboxConfig> = {}, ctOver: Partial<ContainerConfig> = {}) {
      const sbCfg = sandboxConfig(sbOver);
      const sb = await rt.startSandbox(sbCfg);
      sandboxes.push(sb);
      const ct = await rt.startContainer(sb, sbCfg, containerConfig(ctOver));
      return { sb, sbCfg, ct };
    }

    async function rejection(p: Promise<unknown>): Promise<RuntimeError> {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RuntimeError);
      return err as RuntimeError;
    }

    it('reports its version', async () => {
      const v = await rt.version();
      expect(v.runtimeName).not.toBe('');
      expect(v.runtimeVersion).not.toBe('');
    });

    it('reports RuntimeReady and NetworkReady when healthy (CRI Status)', async () => {
      const conditions = await rt.status();
      const byType = Object.fromEntries(conditions.map((c) => [c.type, c.status]));
      expect(byType).toMatchObject({ RuntimeReady: true, NetworkReady: true });
    });

    it('starts a sandbox with a pod IP and a running container', async () => {
      const { sb, sbCfg, ct } = await pod();
      expect(sb.podUid).toBe(sbCfg.podUid);
      expect(sb.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(ct.name).toBe('main');
      const info = await rt.inspectContainer(ct);
      expect(info.state).toBe('running');
      expect(info.exitCode).toBeUndefined();
      expect(Date.parse(info.startedAt)).not.toBeNaN();
      expect(Date.parse(info.createdAt)).toBeLessThanOrEqual(Date.parse(info.startedAt));
      expect(info.finishedAt).toBe('');
      expect(info.imageRef).not.toBe('');
      expect(info.logPath).toBe(join(sbCfg.logDirectory, 'main/0.log'));
    });

    it('gives host-network pods no pod IP of their own', async () => {
      const { sb, ct } = await pod({ hostNetwork: true });
      expect(sb.podIP).toBe('');
      expect((await rt.inspectContainer(ct)).state).toBe('running');
    });

    it('reports a non-zero exit as Error with its code', async () => {
      const { ct } = await pod({}, { command: ['sh', '-c', 'exit 3'] });
      const exit = await rt.waitContainer(ct);
      expect(exit).toMatchObject({ exitCode: 3, reason: 'Error', oomKilled: false });
      expect(Date.parse(exit.finishedAt)).not.toBeNaN();
      const info = await rt.inspectContainer(ct);
      expect(info).toMatchObject({ state: 'exited', exitCode: 3, reason: 'Error' });
      // Waiting on a container that has already exited answers at once, with the same result.
      expect(await rt.waitContainer(ct)).toMatchObject({ exitCode: 3, reason: 'Error' });
    });

    it('reports exit 0 as Completed', async () => {
      const { ct } = await pod({}, { command: ['sh', '-c', 'sleep 0.2; exit 0'] });
      expect(await rt.waitContainer(ct)).toMatchObject({ exitCode: 0, reason: 'Completed' });
    });

    it('writes container output to the CRI log file', async () => {
      const { ct } = await pod({}, { command: ['sh', '-c', 'echo hello-log; echo oops >&2; exit 0'] });
      await rt.waitContainer(ct);
      const path = (await rt.inspectContainer(ct)).logPath;
      const deadline = Date.now() + 10_000;
      let text = '';
      while (!(text.includes('oops') && text.includes('hello-log')) && Date.now() < deadline) {
        text = await readFile(path, 'utf8').catch(() => '');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(text).toMatch(/^\S+ stdout F hello-log$/m);
      expect(text).toMatch(/^\S+ stderr F oops$/m);
    });

    /** Waits until the shell has set its trap (it says so in its log): PID 1 ignores a SIGTERM before that. */
    async function trapSet(ct: ContainerHandle): Promise<void> {
      const path = (await rt.inspectContainer(ct)).logPath;
      const end = Date.now() + 20_000;
      while (!(await readFile(path, 'utf8').catch(() => '')).includes('trapped')) {
        if (Date.now() > end) throw new Error('the container never set its SIGTERM trap');
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    it('stops a container that handles SIGTERM gracefully', async () => {
      const { ct } = await pod({}, { command: ['sh', '-c', 'trap "exit 0" TERM; echo trapped; while true; do sleep 0.2; done'] });
      await trapSet(ct);
      await rt.stopContainer(ct, 30);
      expect(await rt.waitContainer(ct)).toMatchObject({ exitCode: 0, reason: 'Completed' });
    });

    it('reopens a renamed log file: later output goes to a new file at the log path', async () => {
      // 3 s between the two lines leaves the rename and the reopen ample time on a busy node.
      const { ct } = await pod({}, { command: ['sh', '-c', 'echo before-rotation; sleep 3; echo after-rotation; sleep 1000'] });
      const path = (await rt.inspectContainer(ct)).logPath;
      const appears = async (file: string, word: string): Promise<string> => {
        const end = Date.now() + 20_000;
        let text = '';
        while (!text.includes(word) && Date.now() < end) {
          text = await readFile(file, 'utf8').catch(() => '');
          await new Promise((r) => setTimeout(r, 50));
        }
        return text;
      };
      expect(await appears(path, 'before-rotation')).not.toContain('after-rotation');
      await rename(path, `${path}.rotated`);
      await rt.reopenContainerLog(ct);
      const text = await appears(path, 'after-rotation');
      expect(text).toMatch(/^\S+ stdout F after-rotation$/m);
      expect(text).not.toContain('before-rotation');
      const old = await readFile(`${path}.rotated`, 'utf8');
      expect(old).toContain('before-rotation');
      expect(old).not.toContain('after-rotation');
      await rt.stopContainer(ct, 0);
      await rt.waitContainer(ct);
      // A stopped container has no log to reopen.
      await expect(rt.reopenContainerLog(ct)).rejects.toBeInstanceOf(RuntimeError);
    });

    it('kills a container that ignores SIGTERM once the grace period is over', async () => {
      const { ct } = await pod({}, { command: ['sh', '-c', 'trap "" TERM; echo trapped; while true; do sleep 0.2; done'] });
      await trapSet(ct);
      await rt.stopContainer(ct, 1);
      const exit = await rt.waitContainer(ct);
      expect(exit).toMatchObject({ exitCode: 137, reason: 'Error' });
      // Stopping again is a no-op.
      await rt.stopContainer(ct, 1);
    });

    it('stops waiting when the wait is aborted', async () => {
      const { ct } = await pod();
      const ac = new AbortController();
      const waiting = rt.waitContainer(ct, ac.signal);
      ac.abort(new Error('agent shutting down'));
      await expect(waiting).rejects.toThrow('agent shutting down');
      expect((await rt.inspectContainer(ct)).state).toBe('running');
    });

    it('runs exec with output and exit code', async () => {
      const { ct } = await pod();
      const r = await rt.exec(ct, ['sh', '-c', 'echo out; echo err >&2; exit 4'], 10);
      expect(r.exitCode).toBe(4);
      expect(r.stdout.toString()).toBe('out\n');
      expect(r.stderr.toString()).toBe('err\n');
      const ok = await rt.exec(ct, ['echo', 'fine'], 10);
      expect(ok).toMatchObject({ exitCode: 0 });
      expect(ok.stdout.toString()).toBe('fine\n');
    });

    it('passes env, command, args and workingDir to the process', async () => {
      const { ct } = await pod(
        {},
        { command: ['sleep'], args: ['1000'], env: [{ name: 'GREETING', value: 'hi there' }, { name: 'EMPTY', value: '' }], workingDir: '/tmp' },
      );
      const env = (await rt.exec(ct, ['env'], 10)).stdout.toString().split('\n');
      expect(env).toContain('GREETING=hi there');
      expect(env).toContain('EMPTY=');
      expect((await rt.exec(ct, ['pwd'], 10)).stdout.toString()).toBe('/tmp\n');
      expect((await rt.exec(ct, ['cat', '/proc/1/cmdline'], 10)).stdout.toString()).toBe('sleep\u00001000\u0000');
    });

    it('reports stats for a running container', async () => {
      const { ct } = await pod();
      const s = await rt.stats(ct);
      expect(s.memoryWorkingSetBytes).toBeGreaterThan(0);
      expect(s.cpuUsageCoreNanoSeconds).toBeGreaterThanOrEqual(0);
    });

    it('lists cumulative CPU and memory readings of its running containers, from which rates follow', async () => {
      const { sb, sbCfg, ct: idle } = await pod();
      // A busy loop really burns a core under runc; the fake burns what its env asks for.
      const busy = await rt.startContainer(sb, sbCfg, containerConfig({
        name: 'busy', command: ['sh', '-c', 'while true; do :; done'], logPath: 'busy/0.log',
        env: [{ name: 'SKIFF_FAKE_CPU_MILLICORES', value: '800' }],
      }));
      const first = await rt.listStats();
      await new Promise((r) => setTimeout(r, 1500));
      const second = await rt.listStats();
      const rate = (id: string): number => {
        const a = first.find((s) => s.containerId === id);
        const b = second.find((s) => s.containerId === id);
        if (!a || !b) throw new Error(`container ${id} missing from listStats`);
        expect(b.timestampMs).toBeGreaterThan(a.timestampMs);
        expect(b.cpuUsageCoreNanoSeconds).toBeGreaterThanOrEqual(a.cpuUsageCoreNanoSeconds);
        expect(b.memoryWorkingSetBytes).toBeGreaterThan(0);
        return (b.cpuUsageCoreNanoSeconds - a.cpuUsageCoreNanoSeconds) / ((b.timestampMs - a.timestampMs) * 1e6);
      };
      // In cores. Other work shares the machine, so only the order of magnitude is certain.
      expect(rate(busy.containerId)).toBeGreaterThan(0.2);
      expect(rate(idle.containerId)).toBeLessThan(0.1);
      // The single-container call reads the same counter.
      expect((await rt.stats(busy)).cpuUsageCoreNanoSeconds).toBeGreaterThanOrEqual(second.find((s) => s.containerId === busy.containerId)?.cpuUsageCoreNanoSeconds ?? Infinity);
      await rt.stopContainer(busy, 0);
      expect((await rt.listStats()).map((s) => s.containerId)).not.toContain(busy.containerId);
    });

    it('refuses runAsNonRoot when the process would run as root', async () => {
      const sbCfg = sandboxConfig();
      const sb = await rt.startSandbox(sbCfg);
      sandboxes.push(sb);
      const err = await rejection(rt.startContainer(sb, sbCfg, containerConfig({ runAsNonRoot: true, runAsUser: 0 })));
      expect(err.reason).toBe('CreateContainerConfigError');
      const ok = await rt.startContainer(sb, sbCfg, containerConfig({ name: 'nonroot', runAsNonRoot: true, runAsUser: 1000 }));
      expect((await rt.inspectContainer(ok)).state).toBe('running');
    });

    it('runs privileged containers only in sandboxes made for them', async () => {
      const plain = sandboxConfig();
      const sb = await rt.startSandbox(plain);
      sandboxes.push(sb);
      expect((await rejection(rt.startContainer(sb, plain, containerConfig({ privileged: true })))).reason).toBe('CreateContainerError');
      const { ct } = await pod({ privileged: true }, { privileged: true });
      expect((await rt.inspectContainer(ct)).state).toBe('running');
    });

    it('discovers what it started, also from a new instance, and forgets it once destroyed', async () => {
      const { sb, sbCfg, ct } = await pod();
      const found = await rt.discover();
      const s = found.sandboxes.find((x) => x.handle.sandboxId === sb.sandboxId);
      expect(s).toMatchObject({ ready: true, handle: sb });
      expect(s?.labels).toMatchObject({ app: 'conformance', 'io.skiff.managed': 'true', 'io.skiff.pod-uid': sbCfg.podUid });
      const c = found.containers.find((x) => x.handle.containerId === ct.containerId);
      expect(c?.handle).toEqual(ct);
      expect(c?.info.state).toBe('running');

      // An agent restart: a new runtime on the same node sees the same handles and can act on them.
      const again = await makeRuntime();
      extra.push(again);
      const seen = await again.discover();
      expect(seen.sandboxes.find((x) => x.handle.sandboxId === sb.sandboxId)?.handle).toEqual(sb);
      expect(seen.containers.find((x) => x.handle.containerId === ct.containerId)?.handle).toEqual(ct);
      expect((await again.exec(ct, ['echo', 'still here'], 10)).stdout.toString()).toBe('still here\n');

      await rt.stopSandbox(sb);
      const stopped = await again.discover();
      expect(stopped.sandboxes.find((x) => x.handle.sandboxId === sb.sandboxId)?.ready).toBe(false);
      expect(stopped.containers.find((x) => x.handle.containerId === ct.containerId)?.info.state).toBe('exited');

      await rt.destroySandbox(sb);
      await rt.destroySandbox(sb); // idempotent
      const gone = await again.discover();
      expect(gone.sandboxes.map((x) => x.handle.sandboxId)).not.toContain(sb.sandboxId);
      expect(gone.containers.map((x) => x.handle.containerId)).not.toContain(ct.containerId);
      expect((await rejection(rt.inspectContainer(ct))).reason).toBe('NotFound');
    });

    it('removes a container, idempotently', async () => {
      const { ct } = await pod({}, { command: ['sh', '-c', 'exit 0'] });
      await rt.waitContainer(ct);
      await rt.destroyContainer(ct);
      await rt.destroyContainer(ct);
      expect((await rejection(rt.inspectContainer(ct))).reason).toBe('NotFound');
      expect((await rt.discover()).containers.map((x) => x.handle.containerId)).not.toContain(ct.containerId);
    });

    it('applies image pull policies', async () => {
      const ref = await rt.ensureImage(opts.image, 'IfNotPresent');
      expect(ref).not.toBe('');
      expect(await rt.ensureImage(opts.image, 'Never')).toBe(ref);
      expect((await rejection(rt.ensureImage(opts.missingImage, 'Never'))).reason).toBe('ErrImageNeverPull');
      expect((await rejection(rt.ensureImage(opts.missingImage, 'IfNotPresent'))).reason).toBe('ErrImagePull');
    });

    it('fails to create a container from an image that is not on the node', async () => {
      const sbCfg = sandboxConfig();
      const sb = await rt.startSandbox(sbCfg);
      sandboxes.push(sb);
      const err = await rejection(rt.startContainer(sb, sbCfg, containerConfig({ image: opts.missingImage })));
      expect(['NotFound', 'CreateContainerError']).toContain(err.reason);
    });
  });
}
