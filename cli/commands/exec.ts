// skiff exec POD [-c C] -- CMD...: runs the command in a running container through the control
// plane and the pod's node agent (CRI ExecSync), prints its stdout and stderr and exits with its
// exit code, as kubectl exec does. Interactive sessions (-i/-t, CRI's streaming Exec) are not
// built yet and are refused rather than run without a terminal.
import { errors } from '../../proto/api/errors.js';
import type { Ctx } from '../context.js';
import { parseDuration } from '../duration.js';
import { resolvePod } from './logs.js';

export interface ExecOptions {
  container?: string;
  stdin: boolean;
  tty: boolean;
  /** Duration text; the command is killed after it. Unset: the agent's limit (300 s). */
  timeout?: string;
}

export async function execCommand(ctx: Ctx, ref: string, command: readonly string[], o: ExecOptions): Promise<number> {
  if (o.stdin || o.tty) {
    throw errors.badRequest('interactive exec (-i/-t) is not supported yet; run a command without them: skiff exec POD -- CMD...');
  }
  if (command.length === 0) throw errors.badRequest('give the command after --: skiff exec POD -- CMD...');
  let timeoutSeconds = 0;
  if (o.timeout !== undefined) {
    const ms = parseDuration(o.timeout, '--timeout');
    if (ms <= 0) throw errors.badRequest('--timeout must be more than 0');
    timeoutSeconds = Math.ceil(ms / 1000);
  }
  const pod = await resolvePod(ctx, [ref], 'exec into');
  const res = await ctx.api().exec({
    namespace: ctx.settings.namespace, pod, container: o.container ?? '', command: [...command], timeoutSeconds,
  });
  if (res.stdout.length) ctx.stdout.write(Buffer.from(res.stdout).toString('utf8'));
  if (res.stderr.length) ctx.stderr.write(Buffer.from(res.stderr).toString('utf8'));
  return res.exitCode;
}
