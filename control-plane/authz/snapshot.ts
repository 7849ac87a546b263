// The RBAC authorizer's snapshot over the informers of the four RBAC kinds (like Kubernetes'
// RBAC authorizer over its listers): every check reads the caches, never etcd.
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from '../../proto/gen/skiff/v1/rbac.js';
import type { SharedInformers } from '../informers.js';
import type { RbacSnapshot } from './rbac.js';

const BY_NAMESPACE = 'namespace';

export class InformerRbacSnapshot implements RbacSnapshot {
  constructor(private readonly informers: SharedInformers) {}

  async start(): Promise<void> {
    const rb = this.informers.get('RoleBinding');
    if (!rb.hasIndex(BY_NAMESPACE)) rb.addIndex(BY_NAMESPACE, (o) => [o.metadata?.namespace ?? '']);
    await this.informers.start(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);
  }

  clusterRoleBindings(): Iterable<ClusterRoleBinding> {
    return this.informers.get('ClusterRoleBinding').list();
  }

  roleBindings(namespace: string): Iterable<RoleBinding> {
    return this.informers.get('RoleBinding').byIndex(BY_NAMESPACE, namespace);
  }

  clusterRole(name: string): ClusterRole | undefined {
    return this.informers.get('ClusterRole').get(name);
  }

  role(namespace: string, name: string): Role | undefined {
    return this.informers.get('Role').get(`${namespace}/${name}`);
  }
}
