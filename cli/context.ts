// What every command gets: resolved settings, a lazily opened connection and the output
// streams (so tests and the Ink views can write elsewhere than the process streams).
import { Api } from './client.js';
import type { Settings } from './config.js';

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface Ctx {
  settings: Settings;
  /** -n was given on the command line (apply refuses a manifest of another namespace then). */
  explicitNamespace: boolean;
  stdout: Output;
  stderr: Output;
  /** Whether stdout is a terminal: live Ink views and colours only then. */
  interactive: boolean;
  timeoutMs: number;
  now(): number;
  api(): Api;
  close(): void;
}

export function makeCtx(opts: {
  settings: Settings;
  explicitNamespace: boolean;
  stdout: Output;
  stderr: Output;
  interactive: boolean;
  timeoutMs: number;
  impersonateUser?: string;
  impersonateGroups?: string[];
}): Ctx {
  let api: Api | undefined;
  return {
    ...opts,
    now: () => Date.now(),
    api() {
      api ??= new Api({
        server: opts.settings.server, token: opts.settings.token, tls: opts.settings.tls, timeoutMs: opts.timeoutMs,
        impersonateUser: opts.impersonateUser, impersonateGroups: opts.impersonateGroups,
      });
      return api;
    },
    close() {
      api?.close();
    },
  };
}

export function line(out: Output, text: string): void {
  out.write(text.endsWith('\n') ? text : `${text}\n`);
}
