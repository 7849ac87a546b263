// skiff exec POD [-c C] [-i] [-t] -- CMD...: runs the command in a running container through the
// control plane and the pod's node agent and exits with its exit code, as kubectl exec does.
// Without -i/-t it is one call (CRI ExecSync) that returns stdout, stderr and the code. With
// them it is a stream (CRI's streaming Exec): our stdin goes in (raw, when -t and stdin is a
// terminal), output comes back as it is written, terminal resizes are passed on.
import { StringDecoder } from 'node:string_decoder';
import { ApiError, errors } from '../../proto/api/errors.js';
import type { ExecStreamFrame } from '../../proto/gen/skiff/v1/api.js';
import { line, type Ctx } from '../context.js';
import { parseDuration } from '../duration.js';
import { resolvePod } from './logs.js';

/** The terminal side of an interactive exec (process.stdin / process.stdout by default). */
export interface Terminal {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  /** The output terminal's size and its resize events, when there is one. */
  size?: () => { columns: number; rows: number } | undefined;
  onResize?: (fn: () => void) => () => void;
}

export interface ExecOptions {
  container?: string;
  stdin: boolean;
  tty: boolean;
  /** Duration text; the command is killed after it. Unset: the agent's limit (300 s). Not with -i/-t. */
  timeout?: string;
  terminal?: Terminal;
}

const frame = (f: Partial<ExecStreamFrame>): ExecStreamFrame => ({
  start: undefined, tty: false, stdin: false, data: Buffer.alloc(0), channel: 0, closeStdin: false, width: 0, height: 0, exitCode: undefined, ...f,
});

export function processTerminal(): Terminal {
  const out = process.stdout;
  return {
    input: process.stdin,
    size: () => (out.isTTY ? { columns: out.columns, rows: out.rows } : undefined),
    onResize: (fn) => {
      out.on('resize', fn);
      return () => void out.off('resize', fn);
    },
  };
}

async function interactive(ctx: Ctx, pod: string, command: string[], o: ExecOptions): Promise<number> {
  const term = o.terminal ?? processTerminal();
  let tty = o.tty;
  if (tty && !(o.stdin && term.input.isTTY)) {
    line(ctx.stderr, 'Unable to use a TTY - input is not a terminal or the right kind of file');
    tty = false;
  }
  const stream = ctx.api().execStream();
  const size = tty ? term.size?.() : undefined;
  stream.write(frame({
    start: { namespace: ctx.settings.namespace, pod, container: o.container ?? '', command, timeoutSeconds: 0 },
    tty, stdin: o.stdin, width: size?.columns ?? 0, height: size?.rows ?? 0,
  }));
  const cleanups: (() => void)[] = [];
  if (tty && term.input.setRawMode) {
    term.input.setRawMode(true);
    cleanups.push(() => void term.input.setRawMode?.(false));
  }
  if (tty && term.onResize) {
    cleanups.push(term.onResize(() => {
      const s = term.size?.();
      if (s) stream.write(frame({ width: s.columns, height: s.rows }));
    }));
  }
  try {
    return await new Promise<number>((resolve, reject) => {
      let exitCode: number | undefined;
      const decoders = { 1: new StringDecoder('utf8'), 2: new StringDecoder('utf8') };
      stream.on('data', (f: ExecStreamFrame) => {
        if (f.exitCode !== undefined) exitCode = f.exitCode;
        else if (f.channel === 2) ctx.stderr.write(decoders[2].write(Buffer.from(f.data)));
        else ctx.stdout.write(decoders[1].write(Buffer.from(f.data)));
      });
      stream.on('end', () => {
        if (exitCode === undefined) reject(new ApiError('Internal', 'the exec stream ended without the exit code'));
        else resolve(exitCode);
      });
      stream.on('error', (e) => reject(ctx.api().error(e)));
      if (o.stdin) {
        const onData = (d: Buffer | string): void => {
          stream.write(frame({ data: typeof d === 'string' ? Buffer.from(d) : d }));
        };
        const onEnd = (): void => {
          stream.write(frame({ closeStdin: true }));
          stream.end();
        };
        term.input.on('data', onData);
        term.input.on('end', onEnd);
        cleanups.push(() => {
          term.input.off('data', onData);
          term.input.off('end', onEnd);
          // Let the process exit: nothing reads stdin any more.
          term.input.pause();
        });
      } else stream.end();
    });
  } finally {
    for (const c of cleanups.reverse()) c();
  }
}

export async function execCommand(ctx: Ctx, ref: string, command: readonly string[], o: ExecOptions): Promise<number> {
  if (command.length === 0) throw errors.badRequest('give the command after --: skiff exec POD -- CMD...');
  if ((o.stdin || o.tty) && o.timeout !== undefined) throw errors.badRequest('--timeout applies to commands run without -i/-t');
  let timeoutSeconds = 0;
  if (o.timeout !== undefined) {
    const ms = parseDuration(o.timeout, '--timeout');
    if (ms <= 0) throw errors.badRequest('--timeout must be more than 0');
    timeoutSeconds = Math.ceil(ms / 1000);
  }
  const pod = await resolvePod(ctx, [ref], 'exec into');
  if (o.stdin || o.tty) return interactive(ctx, pod, [...command], o);
  const res = await ctx.api().exec({
    namespace: ctx.settings.namespace, pod, container: o.container ?? '', command: [...command], timeoutSeconds,
  });
  if (res.stdout.length) ctx.stdout.write(Buffer.from(res.stdout).toString('utf8'));
  if (res.stderr.length) ctx.stderr.write(Buffer.from(res.stderr).toString('utf8'));
  return res.exitCode;
}
