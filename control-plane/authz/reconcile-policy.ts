// Keeps the built-in roles and bindings in etcd at every start, as kube-apiserver's bootstrap
// policy reconciler does: missing ones are created; existing ones keep whatever users added and
// get back the rules and subjects they lack, unless annotated
// rbac.authorization.kubernetes.io/autoupdate: "false". A binding whose roleRef was changed
// (only possible by deleting it) is recreated.
import { isApiError } from '../../proto/api/errors.js';
import { KINDS } from '../../proto/api/kinds.js';
import type { ClusterRole, ClusterRoleBinding } from '../../proto/gen/skiff/v1/rbac.js';
import type { Store } from '../storage/store.js';
import { applyDefaults } from '../api/defaults.js';
import { AUTOUPDATE_ANNOTATION, bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.js';

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The role with the wanted rules, labels and annotations it lacks added; undefined when nothing is missing. */
export function reconcileRole(live: ClusterRole, wanted: ClusterRole): ClusterRole | undefined {
  const m = live.metadata!;
  if (m.annotations[AUTOUPDATE_ANNOTATION] === 'false') return undefined;
  const missing = wanted.rules.filter((w) => !live.rules.some((r) => same(r, w)));
  const labels = Object.entries(wanted.metadata?.labels ?? {}).filter(([k]) => !(k in m.labels));
  const annotations = Object.entries(wanted.metadata?.annotations ?? {}).filter(([k]) => !(k in m.annotations));
  if (!missing.length && !labels.length && !annotations.length) return undefined;
  return {
    ...live,
    metadata: { ...m, labels: { ...m.labels, ...Object.fromEntries(labels) }, annotations: { ...m.annotations, ...Object.fromEntries(annotations) } },
    rules: [...live.rules, ...missing],
  };
}

/** The binding with the subjects it lacks; 'recreate' when its roleRef differs. */
export function reconcileBinding(live: ClusterRoleBinding, wanted: ClusterRoleBinding): ClusterRoleBinding | 'recreate' | undefined {
  if (live.metadata?.annotations[AUTOUPDATE_ANNOTATION] === 'false') return undefined;
  if (!same(live.roleRef, wanted.roleRef)) return 'recreate';
  const missing = wanted.subjects.filter((w) => !live.subjects.some((s) => s.kind === w.kind && s.name === w.name && s.namespace === w.namespace));
  return missing.length ? { ...live, subjects: [...live.subjects, ...missing] } : undefined;
}

async function getOrUndefined<K extends 'ClusterRole' | 'ClusterRoleBinding'>(store: Store, kind: K, name: string): Promise<Awaited<ReturnType<Store['get']>> | undefined> {
  try {
    return await store.get(kind, '', name);
  } catch (e) {
    if (isApiError(e, 'NotFound')) return undefined;
    throw e;
  }
}

async function createIgnoringRace(store: Store, kind: 'ClusterRole' | 'ClusterRoleBinding', o: ClusterRole | ClusterRoleBinding): Promise<void> {
  applyDefaults(KINDS[kind], o);
  try {
    await store.create(kind, o);
  } catch (e) {
    // Another control plane starting at the same time made it.
    if (!isApiError(e, 'AlreadyExists')) throw e;
  }
}

async function updateIgnoringRace(store: Store, kind: 'ClusterRole' | 'ClusterRoleBinding', o: ClusterRole | ClusterRoleBinding, current: ClusterRole | ClusterRoleBinding): Promise<void> {
  try {
    await store.update(kind, o, { current: current as never });
  } catch (e) {
    // Changed meanwhile (a user, or another control plane's reconcile): the next start looks again.
    if (!isApiError(e, 'Conflict')) throw e;
  }
}

async function ensureRole(store: Store, wanted: ClusterRole): Promise<void> {
  const live = (await getOrUndefined(store, 'ClusterRole', wanted.metadata!.name)) as ClusterRole | undefined;
  if (!live) return createIgnoringRace(store, 'ClusterRole', wanted);
  const next = reconcileRole(live, wanted);
  if (next) await updateIgnoringRace(store, 'ClusterRole', next, live);
}

async function ensureBinding(store: Store, wanted: ClusterRoleBinding): Promise<void> {
  const name = wanted.metadata!.name;
  const live = (await getOrUndefined(store, 'ClusterRoleBinding', name)) as ClusterRoleBinding | undefined;
  if (!live) return createIgnoringRace(store, 'ClusterRoleBinding', wanted);
  const next = reconcileBinding(live, wanted);
  if (next === 'recreate') {
    await store.delete('ClusterRoleBinding', '', name, { resourceVersion: live.metadata!.resourceVersion });
    await createIgnoringRace(store, 'ClusterRoleBinding', wanted);
  } else if (next) await updateIgnoringRace(store, 'ClusterRoleBinding', next, live);
}

/** All at once: a start should not wait on a dozen etcd round trips in a row. */
export async function ensureBootstrapPolicy(store: Store): Promise<void> {
  await Promise.all([
    ...bootstrapClusterRoles().map((r) => ensureRole(store, r)),
    ...bootstrapClusterRoleBindings().map((b) => ensureBinding(store, b)),
  ]);
}
