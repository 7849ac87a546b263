// Runs a built Skiff program (the CLI, mostly) as a user would, in its own environment, and
// collects what it printed: e2e tests and benchmarks judge the exit code and the output.
import { spawn } from 'node:child_process';
import { REPO_ROOT } from './images.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** node <entry> args... in the repository root with exactly env (plus PATH). */
export function runProgram(entry: string, args: string[], env: Record<string, string | undefined>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [entry, ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.once('error', reject);
    p.once('close', (code) => resolve({ code: code ?? 1, out, err }));
  });
}
