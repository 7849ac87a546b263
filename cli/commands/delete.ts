// skiff delete TYPE NAME... | TYPE/NAME... | -f FILE: deletes, then waits until each object is
// really gone (graceful pod termination, foreground cascade) unless --wait=false.
import { ApiError, errors, isApiError } from '../../proto/api/errors.js';
import type { KindInfo } from '../../proto/api/kinds.js';
import { line, type Ctx } from '../context.js';
import { parseDuration } from '../duration.js';
import { checkDocuments, loadManifests, type ReadStdin } from '../manifests.js';
import { namespaceFor, quotedRef } from '../resources.js';
import { parseTargets } from './get.js';

export interface DeleteOptions {
  filenames: string[];
  wait: boolean;
  gracePeriod?: number;
  cascade: string;
  timeout: string;
  ignoreNotFound: boolean;
}

const CASCADE: Record<string, string> = { background: 'Background', foreground: 'Foreground', orphan: 'Orphan', true: 'Background', false: 'Orphan' };

interface Victim {
  info: KindInfo;
  namespace: string;
  name: string;
}

async function victims(ctx: Ctx, args: readonly string[], opts: DeleteOptions, readStdin?: ReadStdin): Promise<Victim[]> {
  if (opts.filenames.length) {
    if (args.length) throw errors.badRequest('give either -f FILE or TYPE NAME, not both');
    const docs = checkDocuments(await loadManifests(opts.filenames, readStdin));
    return docs.map((d) => ({
      info: d.info,
      namespace: namespaceFor(d.info, d.object.metadata?.namespace || ctx.settings.namespace),
      name: d.object.metadata?.name ?? '',
    }));
  }
  const targets = parseTargets(args);
  const out: Victim[] = [];
  for (const t of targets) {
    if (!t.names.length) throw errors.badRequest(`give the name of the ${t.info.singular} to delete (deleting all is not supported)`);
    for (const name of t.names) out.push({ info: t.info, namespace: namespaceFor(t.info, ctx.settings.namespace), name });
  }
  return out;
}

export async function deleteCommand(ctx: Ctx, args: readonly string[], opts: DeleteOptions, readStdin?: ReadStdin): Promise<number> {
  const propagationPolicy = CASCADE[opts.cascade];
  if (!propagationPolicy) throw errors.badRequest(`--cascade must be background, foreground or orphan, not "${opts.cascade}"`);
  const timeoutMs = parseDuration(opts.timeout, '--timeout');
  const list = await victims(ctx, args, opts, readStdin);
  const api = ctx.api();
  const pending: { v: Victim; uid: string }[] = [];
  let failed = false;
  for (const v of list) {
    try {
      const res = await api.delete({
        kind: v.info.kind, namespace: v.namespace, name: v.name, propagationPolicy, gracePeriodSeconds: opts.gracePeriod,
      });
      const uid = res.object?.value.metadata?.uid ?? '';
      line(ctx.stdout, `${quotedRef(v.info, v.name)} deleted`);
      pending.push({ v, uid });
    } catch (e) {
      if (isApiError(e, 'NotFound') && opts.ignoreNotFound) continue;
      if (!isApiError(e)) throw e;
      failed = true;
      line(ctx.stderr, `error (${e.code}): ${e.describe()}`);
    }
  }
  if (opts.wait) {
    const deadline = timeoutMs > 0 ? ctx.now() + timeoutMs : Infinity;
    for (const { v, uid } of pending) await waitGone(ctx, v, uid, deadline);
  }
  return failed ? 1 : 0;
}

async function waitGone(ctx: Ctx, v: Victim, uid: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      const r = await ctx.api().get({ kind: v.info.kind, namespace: v.namespace, name: v.name });
      // A new object of the same name is not the one we deleted.
      if (uid && r.object?.value.metadata?.uid !== uid) return;
    } catch (e) {
      if (isApiError(e, 'NotFound')) return;
      throw e;
    }
    if (ctx.now() > deadline) {
      throw new ApiError('Timeout', `timed out waiting for ${quotedRef(v.info, v.name)} to be deleted (it may still be terminating; --wait=false skips waiting)`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
