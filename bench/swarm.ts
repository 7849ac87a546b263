// Docker Swarm on this machine, for side-by-side figures: a private dockerd (own data root, exec
// root and socket, no iptables) made a one-node swarm, the sample images loaded from the same
// OCI archives Skiff's containerd imports, driven through the `docker` CLI and watched through
// the Engine API on its socket. close() leaves nothing it added: the service, the swarm, the
// daemon, its bridges, mounts and dirs, and the FORWARD policy as it found it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, rmdir } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sampleImage } from '../test/helpers/images.js';
import { sleep } from './cluster.js';

const run = promisify(execFile);
export const DOCKERD = '/usr/sbin/dockerd';
// Debian's client; /usr/local/bin/docker on these machines may be another program.
const DOCKER = '/usr/bin/docker';
const SERVICE = 'bench';

/** Why Swarm cannot run here, or undefined. Installs Debian's docker.io when root and missing. */
export async function swarmUnavailable(repoRoot: string): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (dockerd)';
  if (!existsSync(DOCKERD) || !existsSync(DOCKER)) {
    const r = await run('bash', ['-c', '. scripts/lib/deps.sh && ensure_apt docker.io'], { cwd: repoRoot }).then(() => '', (e: Error) => e.message);
    if (r) return `Debian's docker.io is not installed and could not be: ${r.slice(0, 300)}`;
  }
  return undefined;
}

interface Task {
  ID: string;
  Slot?: number;
  DesiredState: string;
  Spec: { ContainerSpec?: { Image?: string } };
  Status: { State: string; ContainerStatus?: { ContainerID?: string } };
}

export class Swarm {
  private constructor(
    private readonly dir: string,
    private readonly daemon: ChildProcess,
    private readonly forwardPolicy: string,
  ) {}

  get socket(): string {
    return join(this.dir, 'docker.sock');
  }

  static async start(): Promise<Swarm> {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-swarm-'));
    const forwardPolicy = (await run('iptables', ['-S', 'FORWARD'])).stdout.split('\n')[0] ?? '';
    const daemon = spawn(DOCKERD, [
      '--data-root', join(dir, 'root'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'pid'),
      '-H', `unix://${join(dir, 'docker.sock')}`, '--iptables=false', '--ip-masq=false', '--bip', '10.125.0.1/24',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let tail = '';
    daemon.stderr?.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-3000)));
    const s = new Swarm(dir, daemon, forwardPolicy);
    try {
      const until = Date.now() + 60_000;
      while (!(await s.get('/_ping').then(() => true, () => false))) {
        if (daemon.exitCode !== null || Date.now() > until) throw new Error(`dockerd did not come up: ${tail}`);
        await sleep(200);
      }
      await s.docker(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
      for (const ref of ['skiff/hello:1', 'skiff/hello:2']) {
        const img = await sampleImage(ref);
        await run('skopeo', ['copy', '-q', `oci-archive:${img.archive}:${img.tag}`, `docker-daemon:${ref}`, '--dest-daemon-host', `unix://${s.socket}`]);
      }
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  docker(args: string[]): Promise<string> {
    return run(DOCKER, args, { env: { ...process.env, DOCKER_HOST: `unix://${this.socket}` }, maxBuffer: 16 << 20 }).then((r) => r.stdout);
  }

  /** GET on the Engine API over the daemon's socket: the body as text. */
  private get(path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socket, path, method: 'GET', timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => ((res.statusCode ?? 500) >= 300 ? reject(new Error(`GET ${path}: ${res.statusCode} ${body.slice(0, 200)}`)) : resolve(body)));
      });
      req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer`)));
      req.on('error', reject);
      req.end();
    });
  }

  /** GET on the Engine API, the body parsed as JSON. */
  async engine<T>(path: string): Promise<T> {
    return JSON.parse(await this.get(path)) as T;
  }

  tasks(): Promise<Task[]> {
    return this.engine<Task[]>(`/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [SERVICE] }))}`);
  }

  /** Containers running per image: tasks that are running and meant to be. */
  async census(): Promise<Map<string, number>> {
    const m = new Map<string, number>();
    for (const t of await this.tasks()) {
      if (t.Status.State !== 'running') continue;
      const image = (t.Spec.ContainerSpec?.Image ?? '').replace(/@.*$/, '');
      m.set(image, (m.get(image) ?? 0) + 1);
    }
    return m;
  }

  async deploy(replicas: number): Promise<void> {
    await this.docker(['service', 'create', '-d', '--no-resolve-image', '--name', SERVICE, '--replicas', String(replicas),
      '--restart-delay', '0s', '--stop-grace-period', '0s', '--update-parallelism', '12', '--update-delay', '0s',
      'skiff/hello:1', 'sleep', '3600']);
  }

  async updateImage(image: string): Promise<void> {
    await this.docker(['service', 'update', '-d', '--no-resolve-image', '--image', image, SERVICE]);
  }

  async scale(replicas: number): Promise<void> {
    await this.docker(['service', 'scale', '-d', `${SERVICE}=${replicas}`]);
  }

  /** SIGKILLs one running container's process; the returned check says when its slot runs again. */
  async killOne(skip: ReadonlySet<string>): Promise<{ name: string; recovered(): Promise<boolean> }> {
    const t = (await this.tasks()).find((x) => x.Status.State === 'running' && x.DesiredState === 'running' && !skip.has(String(x.Slot)));
    const id = t?.Status.ContainerStatus?.ContainerID;
    if (!t || !id) throw new Error('swarm: no running task to kill');
    const { State } = await this.engine<{ State: { Pid: number } }>(`/containers/${id}/json`);
    process.kill(State.Pid, 'SIGKILL');
    return {
      name: String(t.Slot),
      recovered: async () => (await this.tasks()).some((x) => x.Slot === t.Slot && x.ID !== t.ID && x.Status.State === 'running'),
    };
  }

  /** Resident memory of dockerd and of the containerd it runs (shims not counted, as for Skiff). */
  async pids(): Promise<{ dockerd: number; containerd: number }> {
    const dockerd = this.daemon.pid ?? 0;
    const children = (await readFile(`/proc/${dockerd}/task/${dockerd}/children`, 'utf8')).trim().split(/\s+/).map(Number);
    let containerd = 0;
    for (const c of children) {
      const cmd = await readFile(`/proc/${c}/cmdline`, 'utf8').catch(() => '');
      if (cmd.split('\0')[0]?.endsWith('containerd')) containerd = c;
    }
    return { dockerd, containerd };
  }

  async close(): Promise<void> {
    const problems: string[] = [];
    const note = (what: string) => (e: unknown): void => {
      problems.push(`${what}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    };
    if (this.daemon.exitCode === null) {
      await this.docker(['service', 'rm', SERVICE]).catch(() => undefined); // absent when deploy failed
      const until = Date.now() + 60_000;
      while (Date.now() < until && (await this.engine<unknown[]>('/containers/json?all=1').then((c) => c.length, () => 0)) > 0) await sleep(250);
      await this.docker(['swarm', 'leave', '--force']).catch(note('swarm leave'));
      const exited = new Promise<void>((r) => this.daemon.once('exit', () => r()));
      this.daemon.kill('SIGTERM');
      const t = setTimeout(() => this.daemon.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    }
    for (const link of ['docker0', 'docker_gwbridge']) {
      const { stdout } = await run('ip', ['-o', 'link', 'show', link]).catch(() => ({ stdout: '' }));
      if (stdout) await run('ip', ['link', 'del', link]).catch(note(`ip link del ${link}`));
    }
    const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(this.dir));
    for (const m of mounts.reverse()) await run('umount', ['-l', m]).catch(note(`umount ${m}`));
    await rm(this.dir, { recursive: true, force: true }).catch(note(`rm ${this.dir}`));
    // dockerd makes these even with a private exec root; only empty ones go.
    for (const d of ['/run/docker/plugins', '/run/docker']) await rmdir(d).catch(() => undefined);
    const policy = (await run('iptables', ['-S', 'FORWARD'])).stdout.split('\n')[0] ?? '';
    const want = /^-P FORWARD (\w+)/.exec(this.forwardPolicy)?.[1];
    if (want && policy !== this.forwardPolicy) await run('iptables', ['-P', 'FORWARD', want]).catch(note('restore FORWARD policy'));
    if (problems.length) throw new Error(`swarm cleanup: ${problems.join('; ')}`);
  }
}
