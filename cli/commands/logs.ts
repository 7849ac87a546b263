// skiff logs pod/NAME|NAME|deploy/NAME [-c C] [-f] [--tail N] [--previous] [--timestamps]
// over Api.Logs. For a Deployment or ReplicaSet one pod is picked, as kubectl does.
import { errors } from '../../proto/api/errors.js';
import { unwrap, unwrapAs, KINDS } from '../../proto/api/kinds.js';
import type { Deployment, ReplicaSet } from '../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { consume } from '../client.js';
import { line, type Ctx } from '../context.js';
import { podIsReady } from '../../proto/api/columns/pod-status.js';
import { parseRef } from '../resources.js';
import { selectorString } from '../rollout-feed.js';

export interface LogsOptions {
  container?: string;
  follow: boolean;
  tail?: string;
  previous: boolean;
  timestamps: boolean;
}

/** The pod kubectl would pick: running and ready first, then the newest. */
export function pickPod(pods: readonly Pod[]): Pod | undefined {
  const score = (p: Pod): number => (p.metadata?.deletionTimestamp ? 0 : 4) + (p.status?.phase === 'Running' ? 2 : 0) + (podIsReady(p) ? 1 : 0);
  return [...pods].sort((a, b) => score(b) - score(a) || (Date.parse(b.metadata?.creationTimestamp ?? '') || 0) - (Date.parse(a.metadata?.creationTimestamp ?? '') || 0))[0];
}

/** The pod a ref names: pod/NAME, NAME, or one pod of deploy/NAME or rs/NAME (kubectl's pick). */
export async function resolvePod(ctx: Ctx, args: readonly string[], verb = 'get logs of'): Promise<string> {
  const { info, name } = parseRef(args, KINDS.Pod);
  if (info.kind === 'Pod') return name;
  if (info.kind !== 'Deployment' && info.kind !== 'ReplicaSet') throw errors.badRequest(`cannot ${verb} ${info.plural}`);
  const { value } = unwrap(await ctx.api().get({ kind: info.kind, namespace: ctx.settings.namespace, name }));
  const selector = selectorString((value as Deployment | ReplicaSet).spec?.selector);
  if (!selector) throw errors.badRequest(`${info.singular} "${name}" has no selector`);
  const list = await ctx.api().list({ kind: 'Pod', namespace: ctx.settings.namespace, labelSelector: selector });
  const pods = list.items.map((r) => unwrapAs('Pod', r));
  const pod = pickPod(pods);
  if (!pod) throw errors.notFound('Pod', ctx.settings.namespace, `(any pod of ${info.singular} ${name})`);
  if (pods.length > 1) line(ctx.stderr, `Found ${pods.length} pods, using pod/${pod.metadata?.name ?? ''}`);
  return pod.metadata?.name ?? '';
}

export async function logsCommand(ctx: Ctx, args: readonly string[], opts: LogsOptions): Promise<number> {
  const tail = opts.tail === undefined ? -1 : Number(opts.tail);
  if (!Number.isInteger(tail)) throw errors.badRequest(`--tail must be a whole number, not "${opts.tail}"`);
  const pod = await resolvePod(ctx, args);
  const api = ctx.api();
  const stream = api.logs({
    namespace: ctx.settings.namespace, pod, container: opts.container ?? '', follow: opts.follow,
    tailLines: tail, previous: opts.previous, timestamps: opts.timestamps,
  });
  await consume(api, stream, (chunk) => ctx.stdout.write(Buffer.from(chunk.data).toString('utf8')));
  return 0;
}
