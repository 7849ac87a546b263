// How the network code runs `ip` and `nft`: argv in, stdout out, a failure carries the
// command and its stderr. A prefix runs them elsewhere, e.g. ['nsenter', '--net=/var/run/netns/NS']
// (tests; a node agent of `skiff up --nodes N` runs inside its namespace already).
import { spawn } from 'node:child_process';

export type Exec = (argv: readonly string[], input?: string) => Promise<string>;

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')} failed (${code === null ? 'killed' : `exit ${code}`}): ${stderr.trim() || 'no output'}`);
  }
}

export function commandExec(prefix: readonly string[] = []): Exec {
  return (argv, input) =>
    new Promise((resolve, reject) => {
      const full = [...prefix, ...argv];
      const child = spawn(full[0]!, full.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      // stdout and stderr are pipes (stdio above).
      let out = '';
      let err = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.on('error', (e) => reject(new CommandError(full, null, e.message)));
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new CommandError(full, code, err))));
      if (child.stdin) {
        // A command that fails before reading its input closes the pipe: its exit status says why.
        child.stdin.on('error', () => undefined);
        child.stdin.end(input);
      }
    });
}
