// `skiff get` columns of the RBAC kinds, as kubectl prints them.
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding, Subject } from '../../gen/skiff/v1/rbac.js';
import { age } from './age.js';
import type { Row } from './row.js';

interface Columns<T> {
  headers: string[];
  wide: string[];
  row(o: T, now: number): Row;
  wideRow(o: T, now: number): Row;
}

const roleColumns = <T extends Role | ClusterRole>(): Columns<T> => ({
  headers: ['NAME', 'CREATED AT'],
  wide: [],
  row: (r) => [r.metadata?.name ?? '', r.metadata?.creationTimestamp ?? ''],
  wideRow: () => [],
});

const names = (subjects: readonly Subject[], kind: string): string =>
  subjects.filter((s) => s.kind === kind).map((s) => (kind === 'ServiceAccount' ? `${s.namespace}/${s.name}` : s.name)).join(', ');

const bindingColumns = <T extends RoleBinding | ClusterRoleBinding>(): Columns<T> => ({
  headers: ['NAME', 'ROLE', 'AGE'],
  wide: ['USERS', 'GROUPS', 'SERVICEACCOUNTS'],
  row: (b, now) => [b.metadata?.name ?? '', `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`, age(b.metadata?.creationTimestamp, now)],
  wideRow: (b) => [names(b.subjects, 'User'), names(b.subjects, 'Group'), names(b.subjects, 'ServiceAccount')],
});

export const roles = roleColumns<Role>();
export const clusterRoles = roleColumns<ClusterRole>();
export const roleBindings = bindingColumns<RoleBinding>();
export const clusterRoleBindings = bindingColumns<ClusterRoleBinding>();
