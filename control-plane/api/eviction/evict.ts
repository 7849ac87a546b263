// Api.Evict: Kubernetes' pods/eviction subresource. Reads the pod, its ReplicaSet, Deployment
// and the Deployment's pods from etcd, asks decideEviction, and marks the pod for deletion in
// one transaction that also requires every pod the count was made over to be unchanged; when
// one moved (another eviction, a status change), it decides again on fresh data. So two
// evictions racing through two API processes can never both take the last spare pod.
import { errors, isApiError } from '../../../proto/api/errors.js';
import type { EvictRequest } from '../../../proto/gen/skiff/v1/api.js';
import type { Deployment, ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import { controllerRefOf } from '../../controllers/runtime/claim.js';
import { clone, kindOf, timestamp, type ApiContext } from '../context.js';
import { DEFAULT_NAMESPACE } from '../defaults.js';
import { deleteObject, gracePeriod } from '../delete.js';
import { decideEviction, type EvictionSnapshot } from './decide.js';

const ATTEMPTS = 16;

async function getOrUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (e) {
    if (isApiError(e, 'NotFound')) return undefined;
    throw e;
  }
}

async function snapshot(ctx: ApiContext, pod: Pod): Promise<EvictionSnapshot> {
  const ns = pod.metadata?.namespace ?? '';
  const now = ctx.now().getTime();
  const rsRef = controllerRefOf(pod);
  if (rsRef?.kind !== 'ReplicaSet') return { pod, deploymentPods: [], now };
  const replicaSet = await getOrUndefined<ReplicaSet>(ctx.store.get('ReplicaSet', ns, rsRef.name));
  const dRef = replicaSet && controllerRefOf(replicaSet);
  if (!replicaSet || dRef?.kind !== 'Deployment') return { pod, replicaSet, deploymentPods: [], now };
  const deployment = await getOrUndefined<Deployment>(ctx.store.get('Deployment', ns, dRef.name));
  if (!deployment) return { pod, replicaSet, deploymentPods: [], now };
  const [sets, pods] = await Promise.all([ctx.store.list('ReplicaSet', { namespace: ns }), ctx.store.list('Pod', { namespace: ns })]);
  const owned = new Set(sets.items.filter((rs) => controllerRefOf(rs)?.uid === deployment.metadata?.uid).map((rs) => rs.metadata?.uid));
  const deploymentPods = pods.items.filter((p) => owned.has(controllerRefOf(p)?.uid));
  return { pod, replicaSet, deployment, deploymentPods, now };
}

export async function evictPod(ctx: ApiContext, req: EvictRequest): Promise<Pod> {
  const ns = req.namespace || DEFAULT_NAMESPACE;
  if (!req.name) throw errors.badRequest('evict: pod name is required');
  if (req.gracePeriodSeconds !== undefined && req.gracePeriodSeconds < 0) {
    throw errors.invalid('Eviction', req.name, [{ field: 'deleteOptions.gracePeriodSeconds', message: 'must be >= 0', source: '' }]);
  }
  const info = kindOf('Pod');
  for (let attempt = 1; ; attempt++) {
    const pod = await ctx.store.get('Pod', ns, req.name);
    const decision = decideEviction(await snapshot(ctx, pod));
    if (!decision.allowed) throw errors.tooManyRequests(decision.message, 'Pod', req.name);
    if (decision.guard.length === 0) {
      // Nothing to keep: an ordinary delete, bound to this pod (not a successor of its name).
      return (await deleteObject(ctx, {
        kind: 'Pod', namespace: ns, name: req.name, propagationPolicy: '', gracePeriodSeconds: req.gracePeriodSeconds,
        resourceVersion: '', uid: pod.metadata?.uid ?? '', dryRun: req.dryRun,
      })) as Pod;
    }
    // An available pod runs on a node, so it is marked and its agent stops it. A grace of 0
    // would delete it outright, which the guarded write does not offer; 1 s is as good.
    const grace = Math.max(1, gracePeriod(pod, 'Pod', req.gracePeriodSeconds));
    const marked = clone(info, pod);
    marked.metadata!.deletionTimestamp = timestamp(new Date(ctx.now().getTime() + grace * 1000));
    marked.metadata!.deletionGracePeriodSeconds = grace;
    if (req.dryRun) return marked;
    try {
      return await ctx.store.updateIfUnchanged('Pod', marked, pod, decision.guard.map((p) => ({ kind: 'Pod' as const, object: p })));
    } catch (e) {
      if (!isApiError(e, 'Conflict') || attempt >= ATTEMPTS) throw e;
    }
  }
}
