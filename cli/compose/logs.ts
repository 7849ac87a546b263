// skiff compose logs [-f] [--tail N] [SERVICE...]: the logs of every pod of the services, each
// line prefixed with "<service>-<n> | " as docker compose does (n counts the service's pods in
// name order). With -f, pods present when it starts are followed until Ctrl-C.
import { ApiError } from '../../proto/api/errors.js';
import { unwrapAs } from '../../proto/api/kinds.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { consume } from '../client.js';
import type { Ctx } from '../context.js';
import { PROJECT_LABEL, SERVICE_LABEL } from './translate/names.js';

export interface FollowOptions {
  follow: boolean;
  /** -1: all. */
  tail: number;
  signal?: AbortSignal;
}

/** Splits a stream of chunks into whole lines, each written with the prefix. */
export function prefixer(prefix: string, write: (s: string) => void): { push(text: string): void; end(): void } {
  let rest = '';
  return {
    push(text: string) {
      const parts = (rest + text).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) write(`${prefix}${p}\n`);
    },
    end() {
      if (rest) write(`${prefix}${rest}\n`);
      rest = '';
    },
  };
}

export async function followLogs(ctx: Ctx, namespace: string, project: string, services: readonly string[], opts: FollowOptions): Promise<void> {
  const api = ctx.api();
  const targets: { prefix: string; pod: Pod }[] = [];
  const width = Math.max(...services.map((s) => s.length)) + 3;
  for (const s of services) {
    const list = await api.list({ kind: 'Pod', namespace, labelSelector: `${PROJECT_LABEL}=${project},${SERVICE_LABEL}=${s}` });
    const pods = list.items.map((r) => unwrapAs('Pod', r)).filter((p) => !p.metadata?.deletionTimestamp && p.spec?.nodeName)
      .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    pods.forEach((pod, i) => targets.push({ prefix: `${`${s}-${i + 1}`.padEnd(width)}| `, pod }));
  }
  const streams = targets.map((t) => {
    const stream = api.logs({
      namespace, pod: t.pod.metadata?.name ?? '', container: '', follow: opts.follow,
      tailLines: opts.tail, previous: false, timestamps: false,
    });
    const out = prefixer(t.prefix, (s) => ctx.stdout.write(s));
    return { stream, done: consume(api, stream, (c) => out.push(Buffer.from(c.data).toString('utf8'))).finally(() => out.end()) };
  });
  const stop = (): void => streams.forEach((s) => s.stream.cancel());
  opts.signal?.addEventListener('abort', stop, { once: true });
  if (opts.signal?.aborted) stop();
  try {
    const results = await Promise.allSettled(streams.map((s) => s.done));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason instanceof ApiError ? failed.reason : new ApiError('Internal', String(failed.reason));
  } finally {
    opts.signal?.removeEventListener('abort', stop);
  }
}
