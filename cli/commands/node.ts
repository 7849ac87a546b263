// skiff cordon|uncordon NODE and skiff drain NODE, as kubectl does them: cordon sets
// spec.unschedulable (the scheduler's NodeUnschedulable filter then skips the node); drain
// cordons, then evicts every pod on the node through Api.Evict, which refuses while an
// eviction would take a Deployment below replicas - maxUnavailable available pods. Refused
// evictions are retried until --timeout, and each pod is followed until it is gone.
import { ApiError, errors, isApiError } from '../../proto/api/errors.js';
import { unwrapAs } from '../../proto/api/kinds.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { line, type Ctx } from '../context.js';
import { parseDuration } from '../duration.js';

export interface DrainOptions {
  gracePeriod?: number;
  /** Duration text; "0" waits for ever (kubectl's default). */
  timeout: string;
  force: boolean;
  /** Between attempts of a refused eviction and polls of a pod going away (kubectl: 5 s). */
  retryMs?: number;
  pollMs?: number;
}

const RETRY_MS = 5_000;
const POLL_MS = 500;

function nodeName(args: readonly string[]): string {
  const words = args.flatMap((a) => (a.includes('/') ? a.split('/') : [a]));
  const [first, second] = words;
  if (words.length === 2 && first && ['node', 'nodes', 'no'].includes(first)) return second ?? '';
  if (words.length === 1 && first) return first;
  throw errors.badRequest('give one node: NODE or node/NODE');
}

/** Sets spec.unschedulable; says so when it already had that value. */
async function setUnschedulable(ctx: Ctx, name: string, value: boolean): Promise<void> {
  const node = unwrapAs('Node', await ctx.api().get({ kind: 'Node', name }));
  const verb = value ? 'cordoned' : 'uncordoned';
  if ((node.spec?.unschedulable ?? false) === value) {
    line(ctx.stdout, `node/${name} already ${verb}`);
    return;
  }
  await ctx.api().patch({ kind: 'Node', name, patchType: 'merge', patch: JSON.stringify({ spec: { unschedulable: value } }) });
  line(ctx.stdout, `node/${name} ${verb}`);
}

export async function cordonCommand(ctx: Ctx, args: readonly string[], value: boolean): Promise<number> {
  await setUnschedulable(ctx, nodeName(args), value);
  return 0;
}

const podRef = (p: Pod): string => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
const hasController = (p: Pod): boolean => (p.metadata?.ownerReferences ?? []).some((r) => r.controller === true);

export async function drainCommand(ctx: Ctx, args: readonly string[], o: DrainOptions): Promise<number> {
  const name = nodeName(args);
  if (o.gracePeriod !== undefined && o.gracePeriod < -1) throw errors.badRequest('--grace-period must be -1 (the pod\'s own) or >= 0');
  const timeoutMs = parseDuration(o.timeout, '--timeout');
  const deadline = timeoutMs > 0 ? ctx.now() + timeoutMs : Infinity;
  const retryMs = o.retryMs ?? RETRY_MS;
  const pollMs = o.pollMs ?? POLL_MS;
  await setUnschedulable(ctx, name, true);
  const list = await ctx.api().list({ kind: 'Pod', namespace: '', fieldSelector: `spec.nodeName=${name}` });
  const pods = list.items.map((r) => unwrapAs('Pod', r));
  // As kubectl: a finished pod has nothing left to lose, so it goes without --force.
  const finished = (p: Pod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
  const bare = pods.filter((p) => !hasController(p) && !finished(p));
  if (bare.length && !o.force) {
    throw errors.badRequest(`cannot delete Pods that declare no controller (use --force to override): ${bare.map(podRef).join(', ')}`);
  }
  if (bare.length) line(ctx.stderr, `Warning: deleting Pods that declare no controller: ${bare.map(podRef).join(', ')}`);
  const grace = o.gracePeriod === undefined || o.gracePeriod < 0 ? undefined : o.gracePeriod;
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const timedOut = (p: Pod, what: string): ApiError =>
    new ApiError('Timeout', `drain did not complete within ${o.timeout}: pod ${podRef(p)} ${what}`);

  const evictOne = async (p: Pod): Promise<void> => {
    const ns = p.metadata?.namespace ?? '';
    const pod = p.metadata?.name ?? '';
    const uid = p.metadata?.uid ?? '';
    line(ctx.stdout, `evicting pod ${ns}/${pod}`);
    for (;;) {
      try {
        await ctx.api().evict({ namespace: ns, name: pod, gracePeriodSeconds: grace });
        break;
      } catch (e) {
        if (isApiError(e, 'NotFound')) break;
        if (!isApiError(e, 'TooManyRequests')) throw e;
        if (ctx.now() + retryMs > deadline) throw timedOut(p, `could not be evicted: ${e.message}`);
        line(ctx.stderr, `error when evicting pods/"${pod}" -n "${ns}" (will retry after ${retryMs / 1000}s): ${e.message}`);
        await sleep(retryMs);
      }
    }
    // Gone, or replaced by a new pod of the same name (a StatefulSet would do that).
    for (;;) {
      try {
        const cur = unwrapAs('Pod', await ctx.api().get({ kind: 'Pod', namespace: ns, name: pod }));
        if (cur.metadata?.uid !== uid) break;
      } catch (e) {
        if (isApiError(e, 'NotFound')) break;
        throw e;
      }
      if (ctx.now() + pollMs > deadline) throw timedOut(p, 'was evicted but has not terminated');
      await sleep(pollMs);
    }
    line(ctx.stdout, `pod/${pod} evicted`);
  };

  const results = await Promise.allSettled(pods.map(evictOne));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failed.length) {
    const first = failed[0];
    if (failed.length === 1 && first instanceof ApiError) throw first;
    const messages = failed.map((e) => (e instanceof Error ? e.message : String(e)));
    throw new ApiError(isApiError(first) ? first.code : 'Internal', `drain of node "${name}" failed for ${failed.length} pods:\n  ${messages.join('\n  ')}`);
  }
  line(ctx.stdout, `node/${name} drained`);
  return 0;
}
