#!/usr/bin/env node
// The `skiff` binary.
import { runCli } from './program.js';

// grpc-js puts the dialled address in the TLS server name, and Node warns (DEP0123) when that is
// an IP address; the certificate is still checked against it. Users would see the warning on
// every command, and scripts reading stderr would too.
const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
process.emitWarning = ((...args: unknown[]) => {
  const [warning, second, code] = args;
  const c = typeof second === 'object' && second !== null ? (second as { code?: string }).code : code;
  if (c === 'DEP0123' || String(warning).includes('Setting the TLS ServerName to an IP address')) return;
  emitWarning(...args);
});

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  interactive: process.stdout.isTTY === true,
});
process.exitCode = code;
