// A private OCI registry (Debian's docker-registry) on a free loopback port with a temp
// storage dir and its own config (never the packaged one: that listens on every interface
// with htpasswd auth). Images go in with skopeo from OCI archives. With `auth`, it requires
// HTTP basic auth from an htpasswd file (bcrypt entry made with bcryptjs), as a private
// registry does: pulls without credentials get 401 Unauthorized.
import bcrypt from 'bcryptjs';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ImageArchive } from './images.js';
import { freePort } from './ports.js';

const run = promisify(execFile);

export interface Registry {
  /** "127.0.0.1:<port>", the prefix of image refs served here. */
  host: string;
  process: ChildProcess;
  /** Pushes an archive as <host>/<repo>:<tag> (default: its own name and tag); returns the ref. */
  push(img: ImageArchive, as?: { repo?: string; tag?: string }): Promise<string>;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** Require this user and password (htpasswd auth). */
  auth?: { username: string; password: string };
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-registry-'));
  const authLines: string[] = [];
  const creds = opts.auth ? ['--dest-creds', `${opts.auth.username}:${opts.auth.password}`] : [];
  if (opts.auth) {
    const file = join(dir, 'htpasswd');
    await writeFile(file, `${opts.auth.username}:${bcrypt.hashSync(opts.auth.password, 10)}\n`, { mode: 0o600 });
    authLines.push(`auth: {htpasswd: {realm: skiff-test, path: ${file}}}`);
  }
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config = join(dir, 'config.yml');
    await writeFile(
      config,
      [
        'version: 0.1',
        'log: {level: error}',
        `storage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}`,
        `http: {addr: "${host}"}`,
        ...authLines,
        '',
      ].join('\n'),
    );
    const proc = spawn(process.env.REGISTRY_BIN ?? 'docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    if (await waitUp(host, proc, 15_000)) {
      return {
        host,
        process: proc,
        async push(img, as = {}) {
          const ref = `${host}/${as.repo ?? img.name}:${as.tag ?? img.tag}`;
          await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', ...creds, `oci-archive:${img.archive}:${img.tag}`, `docker://${ref}`], {
            maxBuffer: 16 << 20,
          });
          return ref;
        },
        async stop() {
          if (proc.exitCode === null && proc.signalCode === null) {
            const exited = new Promise((r) => proc.once('exit', r));
            proc.kill('SIGTERM');
            await exited;
          }
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    proc.kill('SIGKILL');
    if (attempt < 3 && /address already in use/.test(stderr)) continue;
    await rm(dir, { recursive: true, force: true });
    throw new Error(`docker-registry did not start on ${host}: ${stderr.slice(-2000) || 'no output'}`);
  }
}

async function waitUp(host: string, proc: ChildProcess, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (proc.exitCode !== null) return false;
    try {
      // 401 is an auth-enabled registry answering.
      const res = await fetch(`http://${host}/v2/`);
      if (res.ok || res.status === 401) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
