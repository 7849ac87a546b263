// Starts authorization for an API server: the informers the authorizers read, the built-in
// roles (RBAC), and the kube-node-lease namespace node Leases live in (Node), which
// kube-apiserver also makes at start since nodes may not create namespaces.
import { isApiError } from '../../proto/api/errors.js';
import { KINDS } from '../../proto/api/kinds.js';
import { Namespace } from '../../proto/gen/skiff/v1/core.js';
import { applyDefaults } from '../api/defaults.js';
import type { SharedInformers } from '../informers.js';
import type { Store } from '../storage/store.js';
import { Authorizer, type AuthorizationMode } from './authorizer.js';
import { NodeGraph } from './graph.js';
import { NODE_LEASE_NAMESPACE } from './node.js';
import { ensureBootstrapPolicy } from './reconcile-policy.js';
import { InformerRbacSnapshot } from './snapshot.js';

export async function ensureNamespace(store: Store, name: string): Promise<void> {
  try {
    await store.get('Namespace', '', name);
    return;
  } catch (e) {
    if (!isApiError(e, 'NotFound')) throw e;
  }
  const ns = Namespace.fromPartial({ metadata: { name } });
  applyDefaults(KINDS.Namespace, ns);
  try {
    await store.create('Namespace', ns);
  } catch (e) {
    if (!isApiError(e, 'AlreadyExists')) throw e;
  }
}

/** How long a refused request waits for the caches to catch up with etcd before it is refused. */
const CATCH_UP_MS = 2000;

export interface RunningAuthorizer {
  authorizer: Authorizer;
  stop(): void;
}

export async function startAuthorization(store: Store, informers: SharedInformers, modes: readonly AuthorizationMode[]): Promise<RunningAuthorizer> {
  const rbac = new InformerRbacSnapshot(informers);
  const graph = new NodeGraph(informers);
  await Promise.all([
    modes.includes('RBAC') ? ensureBootstrapPolicy(store).then(() => rbac.start()) : undefined,
    modes.includes('Node') ? ensureNamespace(store, NODE_LEASE_NAMESPACE).then(() => graph.start()) : undefined,
  ]);
  const kinds = [
    ...(modes.includes('RBAC') ? (['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'] as const) : []),
    ...(modes.includes('Node') ? (['Pod', 'PersistentVolumeClaim', 'PersistentVolume'] as const) : []),
  ];
  const catchUp = async (): Promise<void> => {
    const rev = await store.currentRevision();
    let timer: NodeJS.Timeout | undefined;
    // Bounded: a cache that cannot catch up (etcd trouble) leaves the refusal as it was.
    await Promise.race([
      Promise.all(kinds.map((k) => informers.get(k).waitForRevision(rev))),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, CATCH_UP_MS))),
    ]).finally(() => clearTimeout(timer));
  };
  return { authorizer: new Authorizer(modes, { rbac, graph }, catchUp), stop: () => graph.stop() };
}
