// Role, ClusterRole, RoleBinding and ClusterRoleBinding (rbac.authorization.k8s.io/v1) rules,
// with Kubernetes' messages. aggregationRule is not implemented and refused rather than ignored.
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject } from '../../../proto/gen/skiff/v1/rbac.js';
import type { Causes } from './causes.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

function validateRule(r: PolicyRule, path: string, namespaced: boolean, c: Causes): void {
  if (r.verbs.length === 0) c.add(`${path}.verbs`, 'Required value: verbs must contain at least one value');
  if (r.nonResourceURLs.length) {
    if (namespaced) c.add(`${path}.nonResourceURLs`, 'Invalid value: namespaced rules cannot apply to non-resource URLs');
    if (r.apiGroups.length || r.resources.length || r.resourceNames.length) {
      c.add(`${path}.nonResourceURLs`, 'Invalid value: rules cannot apply to both regular resources and non-resource URLs');
    }
    r.nonResourceURLs.forEach((u, i) => {
      if (!u.startsWith('/') && u !== '*') c.add(`${path}.nonResourceURLs[${i}]`, `Invalid value: "${u}": must start with "/" (or be "*")`);
    });
    return;
  }
  if (r.apiGroups.length === 0) c.add(`${path}.apiGroups`, 'Required value: resource rules must supply at least one api group');
  if (r.resources.length === 0) c.add(`${path}.resources`, 'Required value: resource rules must supply at least one resource');
}

export function validateRole(o: Role, c: Causes): void {
  o.rules.forEach((r, i) => validateRule(r, `rules[${i}]`, true, c));
}

export function validateClusterRole(o: ClusterRole, c: Causes): void {
  o.rules.forEach((r, i) => validateRule(r, `rules[${i}]`, false, c));
  if (o.aggregationRule) {
    c.add('aggregationRule', 'Forbidden: aggregated ClusterRoles are not supported by Skiff: list the rules in the role itself');
  }
}

function validateRoleRef(ref: RoleRef | undefined, clusterOnly: boolean, c: Causes): void {
  if (!ref) {
    c.add('roleRef', 'Required value');
    return;
  }
  if (ref.apiGroup !== RBAC_GROUP) c.add('roleRef.apiGroup', `Unsupported value: "${ref.apiGroup}": supported values: "${RBAC_GROUP}"`);
  const kinds = clusterOnly ? ['ClusterRole'] : ['Role', 'ClusterRole'];
  if (!kinds.includes(ref.kind)) c.add('roleRef.kind', `Unsupported value: "${ref.kind}": supported values: ${kinds.map((k) => `"${k}"`).join(', ')}`);
  if (!ref.name) c.add('roleRef.name', 'Required value');
  else if (ref.name.includes('/') || ref.name.includes('%')) c.add('roleRef.name', `Invalid value: "${ref.name}": may not contain '/' or '%'`);
}

function validateSubject(s: Subject, path: string, namespaced: boolean, c: Causes): void {
  if (!s.name) c.add(`${path}.name`, 'Required value');
  switch (s.kind) {
    case 'ServiceAccount':
      if (s.apiGroup) c.add(`${path}.apiGroup`, `Unsupported value: "${s.apiGroup}": supported values: ""`);
      if (!namespaced && !s.namespace) c.add(`${path}.namespace`, 'Required value');
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== RBAC_GROUP) c.add(`${path}.apiGroup`, `Unsupported value: "${s.apiGroup}": supported values: "${RBAC_GROUP}"`);
      break;
    default:
      c.add(`${path}.kind`, `Unsupported value: "${s.kind}": supported values: "ServiceAccount", "User", "Group"`);
  }
}

export function validateRoleBinding(o: RoleBinding, c: Causes): void {
  validateRoleRef(o.roleRef, false, c);
  o.subjects.forEach((s, i) => validateSubject(s, `subjects[${i}]`, true, c));
}

export function validateClusterRoleBinding(o: ClusterRoleBinding, c: Causes): void {
  validateRoleRef(o.roleRef, true, c);
  o.subjects.forEach((s, i) => validateSubject(s, `subjects[${i}]`, false, c));
}

/** roleRef is immutable: a binding to another role is a new binding. */
export function validateBindingUpdate(o: RoleBinding | ClusterRoleBinding, old: RoleBinding | ClusterRoleBinding, c: Causes): void {
  const a = o.roleRef;
  const b = old.roleRef;
  if (a?.apiGroup !== b?.apiGroup || a?.kind !== b?.kind || a?.name !== b?.name) {
    c.add('roleRef', `Invalid value: {"apiGroup":"${a?.apiGroup ?? ''}","kind":"${a?.kind ?? ''}","name":"${a?.name ?? ''}"}: cannot change roleRef`);
  }
}

/** Kubernetes' SetDefaults_Subject: User and Group subjects are in the RBAC group. */
export function defaultSubjects(subjects: Subject[]): void {
  for (const s of subjects) {
    if (!s.apiGroup && (s.kind === 'User' || s.kind === 'Group')) s.apiGroup = RBAC_GROUP;
  }
}
