// A whole Skiff cluster for end-to-end tests, from real parts: a private etcd, a registry with
// the sample images, a private containerd (CRI + CNI), the compiled control plane and one node
// agent on the CRI runtime as child processes, driven by the compiled `skiff` binary. stop()
// tears down every process, pod, network namespace and bridge, also after a failed test.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { unwrapAs } from '../../proto/api/kinds.js';
import { newKeyFileText } from '../../control-plane/storage/encryption.js';
import { unmountUnder } from '../../cli/up/containerd.js';
import { Api } from '../../cli/client.js';
import { tokenFileText } from '../../cli/up/credentials.js';
import { CriClient } from '../../node-agent/runtime/cri/client.js';
import { execSync } from '../../node-agent/runtime/cri/containers.js';
import { LABEL_POD_NAME } from '../../node-agent/runtime/labels.js';
import { ContainerState } from '../../proto/gen/runtime/v1/api.js';
import { runProgram, type CliRun } from '../helpers/cli-run.js';
import { startContainerd, type Containerd } from '../helpers/containerd.js';
import { startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { REPO_ROOT, sampleImage, sampleImages } from '../helpers/images.js';
import { freePort } from '../helpers/ports.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { until } from '../helpers/wait.js';
import { agentTlsArgs, controlPlaneTlsArgs, TEST_CLIENT_TLS, writeTestTlsFiles, type TestTlsFiles } from '../helpers/tls.js';

const run = promisify(execFile);

/** The run, or an error with its output when it exited non-zero. */
export function ok(r: Run, what: string): Run {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.out}\n${r.err}`);
  return r;
}

/** Runs a command in a pod's running container through a node's containerd (CRI ExecSync). */
export async function execInPod(cri: CriClient, pod: string, cmd: string[], timeoutSeconds = 10): Promise<{ code: number; out: string; err: string }> {
  const { containers } = await cri.rt('listContainers', { filter: { id: '', podSandboxId: '', labelSelector: { [LABEL_POD_NAME]: pod } } });
  const id = containers.find((x) => x.state === ContainerState.CONTAINER_RUNNING)?.id;
  if (!id) throw new Error(`no running container of pod ${pod}`);
  const r = await execSync(cri, id, cmd, timeoutSeconds);
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

export type Run = CliRun;

const SOURCE_DIRS = ['proto', 'control-plane', 'node-agent', 'cli', 'bench', 'test/helpers'];
// SKIFF_E2E_DIST runs another build (e.g. one with a local patch) and skips the build check.
const DIST = process.env.SKIFF_E2E_DIST ?? join(REPO_ROOT, 'dist');
const ENTRIES = ['control-plane', 'node-agent', 'cli', 'bench'].map((c) => join(DIST, c, 'main.js'));

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, await newestSource(p));
    else if (/\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name)) newest = Math.max(newest, (await stat(p)).mtimeMs);
  }
  return newest;
}

/** Compiles to dist/ when an entry point is missing or older than a source file. */
export async function ensureBuilt(): Promise<void> {
  if (process.env.SKIFF_E2E_DIST) return;
  let oldest = Infinity;
  for (const e of ENTRIES) oldest = Math.min(oldest, await stat(e).then((s) => s.mtimeMs, () => 0));
  let newest = 0;
  for (const d of SOURCE_DIRS) newest = Math.max(newest, await newestSource(join(REPO_ROOT, d)));
  if (oldest >= newest) return;
  // tsc writes its output even when some file has type errors; the type check is CI's job.
  await run(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(REPO_ROOT, 'tsconfig.json')], { cwd: REPO_ROOT, maxBuffer: 64 << 20 })
    .catch(() => undefined);
  for (const e of ENTRIES) await stat(e);
}

interface Child {
  name: string;
  proc: ChildProcess;
  log: string;
}

export interface ClusterOptions {
  /** Also run a registry that requires this login (htpasswd), with skiff/hello:1 in it. */
  authRegistry?: { username: string; password: string };
  /** Start the control plane with --encryption-key-file (a fresh key). */
  encryptSecrets?: boolean;
  /** Extra flags for a test that needs them (e.g. faster metrics and autoscaler syncs). */
  controlPlaneArgs?: string[];
  agentArgs?: string[];
}

export class Cluster {
  readonly token = randomBytes(16).toString('hex');
  /** The test CA's files: the control plane serves its certificate, agent and CLI trust it. */
  tls: TestTlsFiles | undefined;
  readonly nodeName = `e2e-${randomBytes(3).toString('hex')}`;
  /**
   * Each e2e cluster shares the host's network namespace with the others running at the same
   * time: its proxy gets a table, a ClusterIP range and a NodePort band of its own.
   */
  readonly proxyTable = `skiff-e2e-${randomBytes(3).toString('hex')}`;
  readonly serviceCIDR = `10.${randomInt(100, 190)}.0.0/16`;
  readonly nodePortRange = ((base) => `${base}-${base + 99}`)(30000 + 100 * randomInt(0, 27));
  server = '';
  etcd: EtcdServer | undefined;
  registry: Registry | undefined;
  /** The registry that needs a login (with authRegistry). */
  authRegistry: Registry | undefined;
  containerd: Containerd | undefined;
  api: Api | undefined;
  cri: CriClient | undefined;
  private dir = '';
  private readonly children: Child[] = [];
  private readonly killAll = (): void => {
    for (const c of this.children) c.proc.kill('SIGKILL');
  };

  constructor(readonly opts: ClusterOptions = {}) {}

  get registryHost(): string {
    if (!this.registry) throw new Error('cluster not started');
    return this.registry.host;
  }

  async start(): Promise<void> {
    process.once('exit', this.killAll);
    this.dir = await mkdtemp(join(tmpdir(), 'skiff-e2e-'));
    await ensureBuilt();
    await sampleImages();
    this.etcd = await startEtcd({ unsafeNoFsync: true });
    this.registry = await startRegistry();
    for (const ref of ['skiff/hello:1', 'skiff/hello:2', 'skiff/crasher:1', 'skiff/burner:1']) await this.registry.push(await sampleImage(ref));
    if (this.opts.authRegistry) {
      this.authRegistry = await startRegistry({ auth: this.opts.authRegistry });
      await this.authRegistry.push(await sampleImage('skiff/hello:1'));
    }
    const registries = [this.registry.host, ...(this.authRegistry ? [this.authRegistry.host] : [])];
    this.containerd = await startContainerd({ registries, images: [await sampleImage('skiff/pause:1')] });
    this.cri = new CriClient(this.containerd.address);

    // As `skiff up` makes them: the CLI's token is an admin (system:masters), the agent's a node
    // identity, so the agent runs under the Node authorizer as in production.
    const tokenFile = join(this.dir, 'token');
    const nodeTokenFile = join(this.dir, 'node.token');
    const nodeToken = randomBytes(16).toString('hex');
    await writeFile(tokenFile, tokenFileText(this.token, [{ name: this.nodeName, token: nodeToken }]), { mode: 0o600 });
    await writeFile(nodeTokenFile, `${nodeToken}\n`, { mode: 0o600 });
    this.server = `127.0.0.1:${await freePort()}`;
    const encryption: string[] = [];
    if (this.opts.encryptSecrets) {
      await writeFile(join(this.dir, 'encryption.yaml'), newKeyFileText('e2e'), { mode: 0o600 });
      encryption.push('--encryption-key-file', join(this.dir, 'encryption.yaml'));
    }
    this.tls = await writeTestTlsFiles(join(this.dir, 'pki'));
    this.spawn('control-plane', [
      ENTRIES[0] ?? '', ...encryption, ...controlPlaneTlsArgs(this.tls), '--etcd-endpoints', this.etcd.endpoint, '--listen', this.server, '--token-file', tokenFile,
      '--etcd-prefix', '/skiff-e2e', '--log-level', 'info',
      // Its own free port: port + 1 (the default) may be taken on a busy test machine.
      '--rest-listen', '127.0.0.1:0',
      '--service-cluster-ip-range', this.serviceCIDR, '--service-node-port-range', this.nodePortRange,
      ...(this.opts.controlPlaneArgs ?? []),
    ]);
    this.api = new Api({ server: this.server, token: this.token, tls: TEST_CLIENT_TLS, timeoutMs: 5000 });
    const api = this.api;
    // Generous: on a loaded 2-core machine several e2e files start their control planes at once.
    await until(() => api.version().then(() => true, () => false), 90_000, 'control plane answers Version').catch(async (e: unknown) => {
      throw new Error(`${(e as Error).message}\n${await this.logs()}`);
    });

    this.spawn('node-agent', [
      ENTRIES[1] ?? '', '--control-plane', this.server, '--token-file', nodeTokenFile, ...agentTlsArgs(this.tls), '--node-name', this.nodeName,
      '--runtime', 'cri', '--containerd-socket', this.containerd.socket, '--pod-cidr', this.containerd.subnet,
      '--state-dir', join(this.dir, 'agent'), '--listen', `127.0.0.1:${await freePort()}`,
      '--crashloop-initial-seconds', '2', '--crashloop-max-seconds', '10',
      '--service-cluster-ip-range', this.serviceCIDR, '--proxy-table', this.proxyTable, '--cleanup',
      ...(this.opts.agentArgs ?? []),
    ]);
    await until(async () => {
      try {
        const node = unwrapAs('Node', await api.get({ kind: 'Node', name: this.nodeName }));
        return node.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      } catch {
        return false;
      }
    }, 60_000, `node ${this.nodeName} Ready`);
  }

  private spawn(name: string, args: string[]): void {
    const log = join(this.dir, `${name}.log`);
    const out = createWriteStream(log);
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout?.pipe(out);
    proc.stderr?.pipe(out);
    this.children.push({ name, proc, log });
  }

  /** Runs the compiled CLI against this cluster (not a terminal: plain output), with `env` added to its environment. */
  skiff(args: string[], env: Record<string, string> = {}): Promise<Run> {
    return runProgram(ENTRIES[2] ?? '', args, { HOME: this.dir, SKIFF_SERVER: this.server, SKIFF_TOKEN: this.token, SKIFF_CERTIFICATE_AUTHORITY: this.tls?.caFile ?? '', ...env });
  }

  /** The node agent's --state-dir (local-path volumes are under volumes/local-path). */
  get agentStateDir(): string {
    return join(this.dir, 'agent');
  }

  /** Writes a manifest into the cluster's temp dir; returns its path for `skiff apply -f`. */
  async manifest(name: string, text: string): Promise<string> {
    const p = join(this.dir, name);
    await writeFile(p, text);
    return p;
  }

  /** The last lines of each process's log, for a failing test to show. */
  async logs(lines = 30): Promise<string> {
    const parts: string[] = [];
    for (const c of this.children) {
      const text = await readFile(c.log, 'utf8').catch(() => '');
      parts.push(`--- ${c.name} ---\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`);
    }
    if (this.containerd) parts.push(`--- containerd ---\n${await this.containerd.logTail(lines)}`);
    return parts.join('\n');
  }

  async stop(): Promise<void> {
    this.api?.close();
    // The agent first (containers keep running), then the control plane; containerd's stop
    // removes every sandbox and container through the CRI, its shims, mounts and bridge.
    for (const c of [...this.children].reverse()) {
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) continue;
      const exited = new Promise((r) => c.proc.once('exit', r));
      c.proc.kill('SIGTERM');
      const t = setTimeout(() => c.proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    process.off('exit', this.killAll);
    this.cri?.close();
    await this.containerd?.stop().catch(() => undefined);
    await this.registry?.stop().catch(() => undefined);
    await this.authRegistry?.stop().catch(() => undefined);
    await this.etcd?.stop().catch(() => undefined);
    // A stopped agent leaves tmpfs mounts behind (pods' Memory emptyDirs, its secret volumes; a restarted one re-attaches).
    if (this.dir) await unmountUnder(this.dir);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
