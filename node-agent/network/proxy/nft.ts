// The side-effect edge: feeding a transaction to `nft -f -` and writing the one sysctl the
// proxy needs. `prefix` runs the commands elsewhere (tests: `ip netns exec NS`; a node in a
// network namespace: `nsenter --net=/var/run/netns/NS`).
import { spawn } from 'node:child_process';

export interface NftRunner {
  /** Applies one transaction atomically; rejects with nft's error text when the kernel refuses it. */
  apply(script: string): Promise<void>;
  /** `nft list table ip <table>` output, or undefined when the table does not exist. */
  listTable(table: string): Promise<string | undefined>;
  /** sysctl -w key=value. */
  sysctl(key: string, value: string): Promise<void>;
}

export class NftError extends Error {
  constructor(message: string, readonly stderr: string) {
    super(message);
    this.name = 'NftError';
  }
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(argv: string[], stdin?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    // nft may exit before reading everything (a parse error): that EPIPE is reported by 'close'.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin ?? '');
  });
}

export function nftRunner(opts: { prefix?: string[]; nft?: string } = {}): NftRunner {
  const prefix = opts.prefix ?? [];
  const nft = opts.nft ?? 'nft';
  return {
    async apply(script) {
      const r = await run([...prefix, nft, '-f', '-'], script);
      if (r.code !== 0) throw new NftError(`nft -f failed (exit ${r.code}): ${firstLines(r.stderr)}`, r.stderr);
    },
    async listTable(table) {
      const r = await run([...prefix, nft, 'list', 'table', 'ip', table]);
      if (r.code === 0) return r.stdout;
      if (/No such file or directory/.test(r.stderr)) return undefined;
      throw new NftError(`nft list table ip ${table} failed (exit ${r.code}): ${firstLines(r.stderr)}`, r.stderr);
    },
    async sysctl(key, value) {
      const r = await run([...prefix, 'sysctl', '-w', `${key}=${value}`]);
      if (r.code !== 0) throw new Error(`sysctl -w ${key}=${value} failed (exit ${r.code}): ${firstLines(r.stderr)}`);
    },
  };
}

function firstLines(s: string): string {
  return s.split('\n').slice(0, 6).join(' | ').trim();
}
