// Pod Security Admission at the API's edge: the level of the object's namespace (read from
// etcd, not the cache, so a namespace just made stricter is never read as its old self) and the
// pure check of validation/pod-security.ts over a Pod's spec or a workload's pod template.
// Kubernetes only warns on templates; Skiff refuses them too, because its controllers write
// their pods straight to the store and a template refused here is a pod that could never run.
import { errors, isApiError } from '../../proto/api/errors.js';
import { metaOf, type AnyObject, type KindInfo } from '../../proto/api/kinds.js';
import type { Deployment } from '../../proto/gen/skiff/v1/apps.js';
import type { Pod, PodSpec } from '../../proto/gen/skiff/v1/core.js';
import type { ApiContext } from './context.js';
import { Causes } from './validation/causes.js';
import { checkPodSecurity, namespaceLevel, type PodSecurityLevel } from './validation/pod-security.js';

/** The pod spec an object of this kind carries, with its field path (none for other kinds). */
export function podSpecOf(info: KindInfo, o: AnyObject): { spec: PodSpec | undefined; path: string } | undefined {
  if (info.kind === 'Pod') return { spec: (o as Pod).spec, path: 'spec' };
  // ReplicaSet and Deployment share the spec.template shape.
  if (info.kind === 'Deployment' || info.kind === 'ReplicaSet') return { spec: (o as Deployment).spec?.template?.spec, path: 'spec.template.spec' };
  return undefined;
}

/** Namespace name -> labels, for namespaces created in the same apply as the pods. */
export type PendingNamespaces = ReadonlyMap<string, Record<string, string>>;

async function levelOf(ctx: ApiContext, ns: string, pending?: PendingNamespaces): Promise<PodSecurityLevel> {
  const batch = pending?.get(ns);
  if (batch) return namespaceLevel(ns, batch);
  try {
    const live = await ctx.store.get('Namespace', '', ns);
    return namespaceLevel(ns, live.metadata?.labels);
  } catch (e) {
    // A missing namespace is reported by requireNamespace; judge by the default meanwhile.
    if (isApiError(e, 'NotFound')) return namespaceLevel(ns, undefined);
    throw e;
  }
}

/**
 * Throws Invalid when the object's pod spec breaks its namespace's level. On update only a
 * changed pod spec is judged (as Kubernetes ignores status and metadata updates), so a pod
 * admitted before its namespace was tightened can still report status.
 */
export async function admitPodSecurity(
  ctx: ApiContext, info: KindInfo, o: AnyObject, opts: { old?: AnyObject; source?: string; pending?: PendingNamespaces } = {},
): Promise<void> {
  const target = podSpecOf(info, o);
  if (!target?.spec) return;
  if (opts.old) {
    const before = podSpecOf(info, opts.old)?.spec;
    if (before && JSON.stringify(before) === JSON.stringify(target.spec)) return;
  }
  const m = metaOf(o);
  const level = await levelOf(ctx, m.namespace, opts.pending);
  const c = new Causes(opts.source ?? '');
  checkPodSecurity(target.spec, target.path, level, m.namespace, c);
  if (!c.empty) throw errors.invalid(info.kind, m.name, c.list);
}
