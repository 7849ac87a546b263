// The RBAC authorizer (Kubernetes' rbac.RBACAuthorizer), pure over a snapshot of roles and
// bindings: a request is allowed when some binding naming the caller (user, group or service
// account) gives it a role with a rule matching the verb, group, resource and name. A
// ClusterRoleBinding applies everywhere; a RoleBinding only inside its namespace. Nothing is
// ever denied by a rule: without a match the answer is "no opinion" (Kubernetes has no deny).
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from '../../proto/gen/skiff/v1/rbac.js';
import type { Identity } from '../api/auth.js';
import { combinedResource, type Attributes, type Decision, type NonResourceAttributes, type ResourceAttributes } from './attributes.js';

/** What the RBAC authorizer reads: in the server, the informers' caches. */
export interface RbacSnapshot {
  clusterRoleBindings(): Iterable<ClusterRoleBinding>;
  /** The RoleBindings of one namespace. */
  roleBindings(namespace: string): Iterable<RoleBinding>;
  clusterRole(name: string): ClusterRole | undefined;
  role(namespace: string, name: string): Role | undefined;
}

const has = (list: readonly string[], v: string): boolean => list.includes('*') || list.includes(v);

function resourceMatches(rule: PolicyRule, a: ResourceAttributes): boolean {
  const combined = combinedResource(a);
  return rule.resources.some((r) => r === '*' || r === combined || (a.subresource !== '' && r === `*/${a.subresource}`));
}

export function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (a.type === 'nonResource') return nonResourceMatches(rule, a);
  if (rule.nonResourceURLs.length && !rule.resources.length) return false;
  if (!has(rule.apiGroups, a.apiGroup) || !resourceMatches(rule, a)) return false;
  return rule.resourceNames.length === 0 || (a.name !== '' && rule.resourceNames.includes(a.name));
}

function nonResourceMatches(rule: PolicyRule, a: NonResourceAttributes): boolean {
  return rule.nonResourceURLs.some((u) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
}

/** Kubernetes' appliesTo: a subject naming this user, one of its groups, or its service account. */
export function subjectMatches(s: Subject, who: Identity, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === who.name;
    case 'Group':
      return who.groups.includes(s.name);
    case 'ServiceAccount':
      return who.name === `system:serviceaccount:${s.namespace || bindingNamespace}:${s.name}`;
    default:
      return false;
  }
}

const subjectText = (who: Identity, s: Subject): string => (s.kind === 'Group' ? `Group "${s.name}"` : `User "${who.name}"`);

/** RBAC's decision; allowed names the binding and role that allowed it. */
export function rbacAuthorize(snap: RbacSnapshot, who: Identity, a: Attributes): Decision {
  for (const b of snap.clusterRoleBindings()) {
    const s = b.subjects.find((x) => subjectMatches(x, who, ''));
    if (!s || b.roleRef?.kind !== 'ClusterRole') continue;
    const role = snap.clusterRole(b.roleRef.name);
    if (role?.rules.some((r) => ruleAllows(r, a))) {
      return { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding "${b.metadata?.name ?? ''}" of ClusterRole "${b.roleRef.name}" to ${subjectText(who, s)}` };
    }
  }
  if (a.type === 'resource' && a.namespace) {
    for (const b of snap.roleBindings(a.namespace)) {
      const s = b.subjects.find((x) => subjectMatches(x, who, a.namespace));
      if (!s || !b.roleRef) continue;
      const rules = b.roleRef.kind === 'ClusterRole' ? snap.clusterRole(b.roleRef.name)?.rules : b.roleRef.kind === 'Role' ? snap.role(a.namespace, b.roleRef.name)?.rules : undefined;
      if (rules?.some((r) => ruleAllows(r, a))) {
        return { allowed: true, reason: `RBAC: allowed by RoleBinding "${b.metadata?.name ?? ''}/${a.namespace}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${subjectText(who, s)}` };
      }
    }
  }
  return { allowed: false, reason: '' };
}
