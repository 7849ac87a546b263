// What `skiff up`/`skiff down` need from the program that registers them: streams, the
// environment, whether stdout is a terminal, and a way to hand back the exit code.
import type { Output } from '../context.js';

export interface CommandHost {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  interactive: boolean;
  setExitCode(code: number): void;
}

export function processHost(): CommandHost {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    interactive: process.stdout.isTTY === true,
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
}
