#!/usr/bin/env node
// The `skiff` binary.
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  interactive: process.stdout.isTTY === true,
});
process.exitCode = code;
