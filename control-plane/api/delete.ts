// Deletion as Kubernetes does it: a pod bound to a node is only marked (deletionTimestamp)
// and its node agent removes it after stopping the containers; an object with finalizers is
// marked and stays until they are gone; Foreground/Orphan propagation is recorded as the
// finalizers "foregroundDeletion"/"orphan" for the garbage collector.
import { errors } from '../../proto/api/errors.js';
import { metaOf, type AnyObject } from '../../proto/api/kinds.js';
import type { DeleteRequest } from '../../proto/gen/skiff/v1/api.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { kindOf, namespaceOf, timestamp, writableKind, type ApiContext } from './context.js';
import { updateWith } from './crud.js';
import { DEFAULT_NAMESPACE } from './defaults.js';

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';

const POLICIES = ['', 'Background', 'Foreground', 'Orphan'];

/** Grace period a delete gives this object: 0 means remove now (when no finalizers). */
export function gracePeriod(o: AnyObject, kind: string, requested: number | undefined): number {
  if (kind !== 'Pod') return 0;
  const pod = o as Pod;
  // Like Kubernetes' CheckGracefulDelete: unbound and finished pods have nothing to stop.
  if (!pod.spec?.nodeName) return 0;
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 0;
  const g = requested ?? pod.spec.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, g);
}

export async function deleteObject(ctx: ApiContext, req: DeleteRequest): Promise<AnyObject> {
  const info = writableKind(kindOf(req.kind));
  const ns = namespaceOf(info, req.namespace);
  if (!req.name) throw errors.badRequest(`delete ${info.kind}: name is required`);
  if (!POLICIES.includes(req.propagationPolicy)) {
    throw errors.badRequest(`unknown propagationPolicy "${req.propagationPolicy}"; supported: Background, Foreground, Orphan`);
  }
  if (info.kind === 'Namespace' && req.name === DEFAULT_NAMESPACE) {
    // As in Kubernetes: objects without a namespace land there, so it may not go.
    throw errors.badRequest('namespace "default" may not be deleted');
  }
  for (let attempt = 0; ; attempt++) {
    const current = await ctx.store.get(info.kind, ns, req.name);
    const m = metaOf(current);
    if (req.resourceVersion && req.resourceVersion !== m.resourceVersion) {
      throw errors.conflict(info.kind, ns, req.name, `resourceVersion ${req.resourceVersion} is stale`);
    }
    if (req.uid && req.uid !== m.uid) throw errors.conflict(info.kind, ns, req.name, `uid ${req.uid} no longer exists`);
    const grace = gracePeriod(current, info.kind, req.gracePeriodSeconds);
    const finalizers = [...m.finalizers];
    const policyFinalizer =
      req.propagationPolicy === 'Foreground' ? FOREGROUND_FINALIZER : req.propagationPolicy === 'Orphan' ? ORPHAN_FINALIZER : '';
    if (policyFinalizer && !m.deletionTimestamp && !finalizers.includes(policyFinalizer)) finalizers.push(policyFinalizer);
    if (grace === 0 && finalizers.length === 0) {
      if (req.dryRun) return current;
      try {
        return await ctx.store.delete(info.kind, ns, req.name, { resourceVersion: m.resourceVersion });
      } catch (e) {
        if (!(e instanceof Error && 'code' in e && e.code === 'Conflict') || req.resourceVersion || attempt >= 15) throw e;
        continue;
      }
    }
    // Mark for deletion. A repeated delete may only shorten the grace period.
    const now = ctx.now();
    const prevGrace = m.deletionGracePeriodSeconds;
    if (m.deletionTimestamp && prevGrace !== undefined && grace >= prevGrace && finalizers.length === m.finalizers.length) {
      return current;
    }
    const deadline = timestamp(new Date(now.getTime() + grace * 1000));
    try {
      return await updateWith(ctx, info, ns, req.name, m.resourceVersion, (o) => {
        const om = metaOf(o);
        om.finalizers = finalizers;
        return o;
      }, { dryRun: req.dryRun, markDeletion: { timestamp: m.deletionTimestamp && m.deletionTimestamp < deadline ? m.deletionTimestamp : deadline, grace } });
    } catch (e) {
      if (!(e instanceof Error && 'code' in e && e.code === 'Conflict') || req.resourceVersion || attempt >= 15) throw e;
    }
  }
}
