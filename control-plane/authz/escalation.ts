// Kubernetes' RBAC escalation prevention: a caller may write a Role or ClusterRole only with
// rules it already holds (or the verb "escalate" on roles), and a binding only to a role whose
// rules it holds (or the verb "bind" on that role), so "may edit RBAC objects" never becomes
// "may do anything". Pure over the authorizer's decision.
import type { PolicyRule, RoleRef } from '../../proto/gen/skiff/v1/rbac.js';
import type { Identity } from '../api/auth.js';
import { RBAC_GROUP } from '../api/validation/rbac.js';
import { resourceAttributes, type Attributes, type Decision, type ResourceAttributes } from './attributes.js';
import type { RbacSnapshot } from './rbac.js';

const ROLE_RESOURCES = new Set(['roles', 'clusterroles']);
const BINDING_RESOURCES = new Set(['rolebindings', 'clusterrolebindings']);

/** Whether a request writes an RBAC object and so needs the escalation check. */
export function writesRbac(a: Attributes): a is { type: 'resource' } & ResourceAttributes {
  return a.type === 'resource' && a.apiGroup === RBAC_GROUP && !a.subresource && ['create', 'update', 'patch'].includes(a.verb)
    && (ROLE_RESOURCES.has(a.resource) || BINDING_RESOURCES.has(a.resource));
}

/** Every atomic permission a rule grants, as attributes in namespace ("" for cluster-wide). */
function atoms(rule: PolicyRule, namespace: string): Attributes[] {
  const out: Attributes[] = [];
  for (const verb of rule.verbs) {
    if (rule.nonResourceURLs.length) {
      for (const path of rule.nonResourceURLs) out.push({ type: 'nonResource', verb, path });
      continue;
    }
    for (const apiGroup of rule.apiGroups) {
      for (const res of rule.resources) {
        const [resource = '', subresource = ''] = res.split('/', 2);
        for (const name of rule.resourceNames.length ? rule.resourceNames : ['']) {
          out.push(resourceAttributes({ verb, apiGroup, resource, subresource, namespace, name }));
        }
      }
    }
  }
  return out;
}

const describeRule = (r: PolicyRule): string => r.nonResourceURLs.length
  ? `{NonResourceURLs:${JSON.stringify(r.nonResourceURLs)}, Verbs:${JSON.stringify(r.verbs)}}`
  : `{APIGroups:${JSON.stringify(r.apiGroups)}, Resources:${JSON.stringify(r.resources)}${r.resourceNames.length ? `, ResourceNames:${JSON.stringify(r.resourceNames)}` : ''}, Verbs:${JSON.stringify(r.verbs)}}`;

/** The rules of rules the caller does not hold itself (empty: it holds them all). */
export function missingRules(rules: readonly PolicyRule[], namespace: string, allowed: (a: Attributes) => boolean): PolicyRule[] {
  return rules.filter((r) => !atoms(r, namespace).every(allowed));
}

/**
 * The escalation decision for a write of an RBAC object: allowed when the caller holds every
 * rule it grants (or may escalate / bind). Without the object (a patch, whose result is not
 * known before it is applied) only escalate / bind allows it.
 */
export function checkEscalation(snap: RbacSnapshot, who: Identity, a: ResourceAttributes, allowed: (a: Attributes) => boolean): Decision {
  const isRole = ROLE_RESOURCES.has(a.resource);
  const o = a.object as { rules?: PolicyRule[]; roleRef?: RoleRef; metadata?: { name?: string } } | undefined;
  const ns = a.resource === 'roles' || a.resource === 'rolebindings' ? a.namespace : '';
  if (isRole) {
    if (allowed(resourceAttributes({ verb: 'escalate', apiGroup: RBAC_GROUP, resource: a.resource, subresource: '', namespace: ns, name: a.name || (o?.metadata?.name ?? '') }))) {
      return { allowed: true, reason: 'may escalate' };
    }
    if (!o?.rules) return { allowed: false, reason: `a ${a.verb} of ${a.resource} without the whole object needs the verb "escalate"; use apply or update` };
    const missing = missingRules(o.rules, ns, allowed);
    if (!missing.length) return { allowed: true, reason: 'holds every rule it grants' };
    return { allowed: false, reason: `user "${who.name}" (groups=[${who.groups.join(' ')}]) is attempting to grant RBAC permissions not currently held: ${missing.map(describeRule).join(', ')}` };
  }
  const ref = o?.roleRef;
  if (!ref) return { allowed: false, reason: `a ${a.verb} of ${a.resource} without the whole object needs the verb "bind" on its role; use apply or update` };
  const roleResource = ref.kind === 'Role' ? 'roles' : 'clusterroles';
  if (allowed(resourceAttributes({ verb: 'bind', apiGroup: RBAC_GROUP, resource: roleResource, subresource: '', namespace: ref.kind === 'Role' ? ns : '', name: ref.name }))) {
    return { allowed: true, reason: 'may bind the role' };
  }
  const rules = ref.kind === 'Role' ? snap.role(ns, ref.name)?.rules : snap.clusterRole(ref.name)?.rules;
  if (!rules) return { allowed: false, reason: `${ref.kind} "${ref.name}" not found: binding it needs the verb "bind"` };
  const missing = missingRules(rules, ns, allowed);
  if (!missing.length) return { allowed: true, reason: 'holds every rule of the role' };
  return { allowed: false, reason: `user "${who.name}" (groups=[${who.groups.join(' ')}]) is attempting to grant RBAC permissions not currently held: ${missing.map(describeRule).join(', ')}` };
}
