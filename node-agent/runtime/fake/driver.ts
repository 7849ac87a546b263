// The fake runtime: Runtime over a FakeHost, no containers. It keeps the CRI runtime's
// observable behaviour (states, exit codes and reasons, SIGTERM then SIGKILL after the grace
// period, exec, labels and discover) so the agent can be tested, and hundreds of nodes
// simulated, without containerd. Both pass conformance.ts.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  RuntimeError,
  type ContainerConfig,
  type ContainerHandle,
  type ContainerInfo,
  type ContainerStats,
  type ContainerStatsSample,
  type Discovered,
  type ExecResult,
  type ExitResult,
  type ImageAuth,
  type Runtime,
  type RuntimeCondition,
  type SandboxConfig,
  type SandboxHandle,
} from '../runtime.js';
import { containerLabels, managedSelector, sandboxLabels } from '../labels.js';
import {
  DEFAULT_FAKE_CPU_MILLICORES, DEFAULT_FAKE_MEMORY_BYTES, FAKE_CPU_ENV, FAKE_MEMORY_ENV, FakeHost, imageId, normalizeImage,
  type FakeContainer, type FakeSandbox,
} from './host.js';
import { execOnce, programOf } from './program.js';

export interface FakeRuntimeOptions {
  host: FakeHost;
  /** Labels what this runtime creates and scopes discover() to it; "" = any. */
  nodeName?: string;
}

function nonNegative(v: string | undefined, fallback: number): number {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isFinite(n) && n >= 0 ? n : fallback;
}

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

export class FakeRuntime implements Runtime {
  readonly name = 'fake';
  readonly host: FakeHost;
  private readonly nodeName: string;

  constructor(opts: FakeRuntimeOptions) {
    this.host = opts.host;
    this.nodeName = opts.nodeName ?? '';
  }

  version(): Promise<{ runtimeName: string; runtimeVersion: string }> {
    return Promise.resolve({ runtimeName: 'fake', runtimeVersion: '1.0.0' });
  }

  status(): Promise<RuntimeCondition[]> {
    const h = this.host.health;
    if (!h.answering) return Promise.reject(new RuntimeError('Unavailable', 'runtime status: container runtime unavailable (fake runtime told not to answer)'));
    return Promise.resolve([
      { type: 'RuntimeReady', status: h.runtimeReady, reason: h.runtimeReady ? '' : 'FakeRuntimeNotReady', message: h.runtimeReady ? '' : 'fake runtime told to report not ready' },
      { type: 'NetworkReady', status: h.networkReady, reason: h.networkReady ? '' : 'NetworkPluginNotReady', message: h.networkReady ? '' : 'fake runtime told to report its network not ready' },
    ]);
  }

  updatePodCIDR(cidr: string): Promise<void> {
    try {
      this.host.setPodCidr(cidr);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  async ensureImage(image: string, policy: 'Always' | 'IfNotPresent' | 'Never', _auth?: ImageAuth): Promise<string> {
    if (!image) throw new RuntimeError('InvalidImageName', 'image: must not be empty');
    const ref = normalizeImage(image);
    if (policy !== 'Always' && this.host.images.has(ref)) return imageId(ref);
    if (policy === 'Never') throw new RuntimeError('ErrImageNeverPull', `image ${image} is not present on the node and imagePullPolicy is Never`);
    await sleep(this.host.opts.pullLatencyMs ?? 0);
    const err = this.host.behaviour(image).pullError;
    if (err) throw new RuntimeError('ErrImagePull', `pull image ${image}: ${err}`);
    this.host.images.add(ref);
    return imageId(ref);
  }

  async startSandbox(cfg: SandboxConfig): Promise<SandboxHandle> {
    await sleep(this.host.opts.sandboxLatencyMs ?? 0);
    if (cfg.logDirectory && this.writeLogs) await mkdir(cfg.logDirectory, { recursive: true });
    const sb: FakeSandbox = {
      id: this.host.newId(),
      cfg,
      labels: sandboxLabels(this.nodeName, cfg),
      ip: cfg.hostNetwork ? '' : this.host.allocateIP(),
      ready: true,
      createdAt: new Date(),
    };
    this.host.sandboxes.set(sb.id, sb);
    return this.sandboxHandle(sb);
  }

  stopSandbox(h: SandboxHandle): Promise<void> {
    const sb = this.host.sandboxes.get(h.sandboxId);
    if (!sb) return Promise.resolve();
    // Like containerd: whatever still runs in the sandbox is killed outright.
    for (const c of this.host.containers.values()) if (c.sandboxId === sb.id) this.exit(c, 137, 'Error');
    this.host.releaseIP(sb.ip);
    sb.ready = false;
    return Promise.resolve();
  }

  async destroySandbox(h: SandboxHandle): Promise<void> {
    await this.stopSandbox(h);
    for (const c of [...this.host.containers.values()]) if (c.sandboxId === h.sandboxId) this.host.containers.delete(c.id);
    this.host.sandboxes.delete(h.sandboxId);
  }

  async startContainer(sandbox: SandboxHandle, sandboxCfg: SandboxConfig, cfg: ContainerConfig): Promise<ContainerHandle> {
    const what = `container ${cfg.name} of pod ${sandboxCfg.podNamespace}/${sandboxCfg.podName}`;
    const sb = this.host.sandboxes.get(sandbox.sandboxId);
    if (!sb) throw new RuntimeError('NotFound', `${what}: create: sandbox ${sandbox.sandboxId} not found`);
    if (!sb.ready) throw new RuntimeError('CreateContainerError', `${what}: create: sandbox ${sandbox.sandboxId} is not ready`);
    const ref = normalizeImage(cfg.image);
    if (!this.host.images.has(ref)) throw new RuntimeError('NotFound', `${what}: create: failed to get image "${ref}": not found`);
    if (cfg.privileged && !sb.cfg.privileged) {
      throw new RuntimeError('CreateContainerError', `${what}: create: no privileged container allowed in sandbox`);
    }
    const uid = cfg.runAsUser ?? sandboxCfg.runAsUser;
    if (cfg.runAsNonRoot && (uid ?? 0) === 0) {
      throw new RuntimeError('CreateContainerConfigError', `container ${cfg.name}: runAsNonRoot and image will run as root`);
    }
    const behaviour = this.host.behaviour(cfg.image);
    const env: Record<string, string> = { PATH: '/bin', HOSTNAME: sb.cfg.hostNetwork ? 'node' : sb.cfg.hostname || sb.cfg.podName };
    Object.assign(env, behaviour.env ?? {});
    for (const e of cfg.env) env[e.name] = e.value;
    const cmdline = cfg.command.length > 0 ? [...cfg.command, ...cfg.args] : cfg.args.length > 0 ? ['/entrypoint.sh', ...cfg.args] : ['/entrypoint.sh'];
    const program = cfg.command.length > 0 ? programOf(cmdline, env) : this.host.defaultProgram(cfg.image, env);
    const c: FakeContainer = {
      id: this.host.newId(),
      sandboxId: sb.id,
      cfg,
      labels: containerLabels(this.nodeName, sb.cfg, cfg),
      imageRef: imageId(ref),
      env,
      cmdline,
      program,
      onTerm: program.onTerm,
      neverReady: behaviour.neverReady ?? false,
      state: 'created',
      exitCode: 0,
      reason: '',
      createdAt: new Date(),
      logPath: sb.cfg.logDirectory && cfg.logPath ? join(sb.cfg.logDirectory, cfg.logPath) : '',
      timers: new Set(),
      waiters: new Set(),
      usage: {
        cpuMillicores: nonNegative(env[FAKE_CPU_ENV], DEFAULT_FAKE_CPU_MILLICORES),
        memoryBytes: nonNegative(env[FAKE_MEMORY_ENV], DEFAULT_FAKE_MEMORY_BYTES),
        cpuNanosBefore: 0,
        sinceMs: 0,
      },
    };
    this.host.containers.set(c.id, c);
    await sleep(this.host.opts.startLatencyMs ?? 0);
    if (c.state !== 'created') throw new RuntimeError('RunContainerError', `${what}: start: container was stopped while starting`);
    c.state = 'running';
    c.startedAt = new Date();
    c.usage.sinceMs = c.startedAt.getTime();
    this.run(c, 0);
    return { version: 1, runtime: 'fake', sandboxId: sb.id, containerId: c.id, name: cfg.name, attempt: cfg.attempt };
  }

  waitContainer(h: ContainerHandle, signal?: AbortSignal): Promise<ExitResult> {
    return new Promise((resolve, reject) => {
      const c = this.container(h);
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve({
          exitCode: c.exitCode,
          reason: c.reason,
          message: '',
          finishedAt: c.finishedAt?.toISOString() ?? '',
          oomKilled: c.reason === 'OOMKilled',
        });
      };
      const onAbort = (): void => {
        c.waiters.delete(done);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      if (signal?.aborted) return onAbort();
      if (c.state === 'exited') return done();
      c.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async stopContainer(h: ContainerHandle, timeoutSeconds: number): Promise<void> {
    const c = this.host.containers.get(h.containerId);
    if (!c || c.state === 'exited') return;
    if (c.state === 'created' || timeoutSeconds <= 0) return this.exit(c, 137, 'Error');
    const exited = new Promise<void>((r) => c.waiters.add(r));
    if ('exit' in c.onTerm) {
      const code = c.onTerm.exit;
      this.later(c, 0, () => this.exit(c, code, code === 0 ? 'Completed' : 'Error'));
    }
    // SIGKILL once the grace period is over, whatever SIGTERM did.
    this.later(c, timeoutSeconds * 1000, () => this.exit(c, 137, 'Error'));
    await exited;
  }

  destroyContainer(h: ContainerHandle): Promise<void> {
    const c = this.host.containers.get(h.containerId);
    if (c) {
      this.exit(c, 137, 'Error');
      this.host.containers.delete(c.id);
    }
    return Promise.resolve();
  }

  inspectContainer(h: ContainerHandle): Promise<ContainerInfo> {
    return this.async(() => this.info(this.container(h)));
  }

  exec(h: ContainerHandle, cmd: string[], _timeoutSeconds: number): Promise<ExecResult> {
    return this.async(() => {
      const c = this.container(h);
      if (c.state !== 'running') throw new RuntimeError('ExecError', `container ${c.id}: exec ${JSON.stringify(cmd)}: container is not running`);
      if (c.neverReady) return { exitCode: 1, stdout: Buffer.alloc(0), stderr: Buffer.from('not ready\n') };
      const sb = this.host.sandboxes.get(c.sandboxId);
      const hostname = sb?.cfg.hostname || sb?.cfg.podName || '';
      const r = execOnce(cmd, { env: c.env, workingDir: c.cfg.workingDir, cmdline: c.cmdline, hostname });
      return { exitCode: r.exitCode, stdout: Buffer.from(r.stdout), stderr: Buffer.from(r.stderr) };
    });
  }

  stats(h: ContainerHandle): Promise<ContainerStats> {
    return this.async(() => this.reading(this.container(h), Date.now()));
  }

  async reopenContainerLog(h: ContainerHandle): Promise<void> {
    const c = await this.async(() => this.container(h));
    if (c.state !== 'running') throw new RuntimeError('ReopenLogError', `container ${c.id}: reopen its log: container is not running`);
    // Output is appended by path, so later writes land in the new file already; the file is
    // created now, as containerd's reopen does, so a reader finds it at once.
    if (c.logPath && this.writeLogs) await appendFile(c.logPath, '');
  }

  listStats(): Promise<ContainerStatsSample[]> {
    const sel = Object.entries(managedSelector(this.nodeName));
    const now = Date.now();
    const out: ContainerStatsSample[] = [];
    for (const c of this.host.containers.values()) {
      if (c.state !== 'running' || !sel.every(([k, v]) => c.labels[k] === v)) continue;
      out.push({ containerId: c.id, timestampMs: now, ...this.reading(c, now) });
    }
    return Promise.resolve(out);
  }

  /**
   * Sets a container's simulated usage from now on (tests and simulations): CPU in millicores,
   * accumulated into its cumulative CPU time, and its working set.
   */
  setUsage(h: ContainerHandle, usage: { cpuMillicores?: number; memoryBytes?: number }): void {
    const c = this.container(h);
    const now = Date.now();
    c.usage.cpuNanosBefore = this.cpuNanos(c, now);
    c.usage.sinceMs = now;
    if (usage.cpuMillicores !== undefined) c.usage.cpuMillicores = usage.cpuMillicores;
    if (usage.memoryBytes !== undefined) c.usage.memoryBytes = usage.memoryBytes;
  }

  private cpuNanos(c: FakeContainer, nowMs: number): number {
    const end = c.state === 'running' ? nowMs : (c.finishedAt?.getTime() ?? nowMs);
    const ms = c.usage.sinceMs > 0 ? Math.max(0, end - c.usage.sinceMs) : 0;
    // millicores x ms = 1e-3 cores x 1e6 ns = 1e3 core-nanoseconds.
    return c.usage.cpuNanosBefore + Math.round(c.usage.cpuMillicores * ms * 1000);
  }

  private reading(c: FakeContainer, nowMs: number): ContainerStats {
    const running = c.state === 'running';
    return {
      cpuUsageNanoCores: running ? c.usage.cpuMillicores * 1_000_000 : 0,
      cpuUsageCoreNanoSeconds: this.cpuNanos(c, nowMs),
      memoryWorkingSetBytes: running ? c.usage.memoryBytes : 0,
    };
  }

  discover(): Promise<Discovered> {
    const sel = Object.entries(managedSelector(this.nodeName));
    const matches = (labels: Record<string, string>): boolean => sel.every(([k, v]) => labels[k] === v);
    const out: Discovered = { sandboxes: [], containers: [] };
    for (const sb of this.host.sandboxes.values()) {
      if (matches(sb.labels)) out.sandboxes.push({ handle: this.sandboxHandle(sb), ready: sb.ready, labels: { ...sb.labels } });
    }
    for (const c of this.host.containers.values()) {
      if (!matches(c.labels)) continue;
      out.containers.push({
        handle: { version: 1, runtime: 'fake', sandboxId: c.sandboxId, containerId: c.id, name: c.cfg.name, attempt: c.cfg.attempt },
        info: this.info(c),
        labels: { ...c.labels },
      });
    }
    return Promise.resolve(out);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Scripts an exit from outside (a crash, an OOM kill) for tests and simulations. */
  crash(h: ContainerHandle, exitCode: number, reason = exitCode === 0 ? 'Completed' : 'Error'): void {
    const c = this.host.containers.get(h.containerId);
    if (c && c.state !== 'exited') this.exit(c, exitCode, reason);
  }

  /**
   * Kills one running container from outside, as `kill -9` on the host would (exit 137): for
   * chaos runs, which know containers only by what the host lists. False when it is not running.
   */
  killContainer(containerId: string): boolean {
    const c = this.host.containers.get(containerId);
    if (!c || c.state !== 'running') return false;
    this.exit(c, 137, 'Error');
    return true;
  }

  /** Runs fn so that a throw becomes a rejection, as from a remote call. */
  private async<T>(fn: () => T): Promise<T> {
    return new Promise((resolve) => resolve(fn()));
  }

  private get writeLogs(): boolean {
    return this.host.opts.writeLogs ?? true;
  }

  private sandboxHandle(sb: FakeSandbox): SandboxHandle {
    // Like the CRI: a stopped sandbox has given its IP back.
    return { version: 1, runtime: 'fake', sandboxId: sb.id, podUid: sb.cfg.podUid, podIP: sb.ready ? sb.ip : '' };
  }

  private container(h: ContainerHandle): FakeContainer {
    const c = this.host.containers.get(h.containerId);
    if (!c) throw new RuntimeError('NotFound', `container ${h.containerId}: status: an error occurred when try to find container "${h.containerId}": not found`);
    return c;
  }

  private info(c: FakeContainer): ContainerInfo {
    return {
      state: c.state,
      exitCode: c.state === 'exited' ? c.exitCode : undefined,
      reason: c.reason,
      message: '',
      createdAt: c.createdAt.toISOString(),
      startedAt: c.startedAt?.toISOString() ?? '',
      finishedAt: c.finishedAt?.toISOString() ?? '',
      imageRef: c.imageRef,
      logPath: c.logPath,
    };
  }

  private later(c: FakeContainer, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      c.timers.delete(t);
      fn();
    }, ms);
    c.timers.add(t);
  }

  /** Runs the program from step i, one timer per sleep. */
  private run(c: FakeContainer, i: number): void {
    for (; i < c.program.steps.length; i++) {
      if (c.state !== 'running') return;
      const step = c.program.steps[i];
      if (!step) break;
      switch (step.kind) {
        case 'out':
          this.log(c, step.stream, step.text);
          break;
        case 'trap':
          c.onTerm = step.onTerm;
          break;
        case 'exit':
          return this.exit(c, step.code, step.reason ?? (step.code === 0 ? 'Completed' : 'Error'));
        case 'forever':
          return;
        case 'sleep': {
          const next = i + 1;
          return this.later(c, step.ms, () => this.run(c, next));
        }
      }
    }
    this.exit(c, 0, 'Completed');
  }

  private exit(c: FakeContainer, code: number, reason: string): void {
    if (c.state === 'exited') return;
    for (const t of c.timers) clearTimeout(t);
    c.timers.clear();
    c.state = 'exited';
    c.exitCode = code;
    c.reason = reason;
    c.finishedAt = new Date();
    if (!c.startedAt) c.startedAt = c.finishedAt;
    c.usage.cpuNanosBefore = this.cpuNanos(c, c.finishedAt.getTime());
    c.usage.sinceMs = c.finishedAt.getTime();
    const waiters = [...c.waiters];
    c.waiters.clear();
    for (const w of waiters) w();
  }

  /** CRI log format: "<RFC3339Nano> <stream> F <line>", as the agent's log reader expects. */
  private log(c: FakeContainer, stream: 'stdout' | 'stderr', text: string): void {
    if (!c.logPath || !this.writeLogs) return;
    const now = new Date().toISOString();
    const lines = text.replace(/\n$/, '').split('\n').map((l) => `${now} ${stream} F ${l}\n`).join('');
    const path = c.logPath;
    // One write after the other, so lines keep their order.
    c.logChain = (c.logChain ?? mkdir(dirname(path), { recursive: true }).then(() => undefined))
      .then(() => appendFile(path, lines))
      .catch(() => undefined);
  }
}
