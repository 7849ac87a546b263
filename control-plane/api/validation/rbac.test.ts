import { describe, expect, it } from 'vitest';
import { fromManifest, type JsonObject } from '../../../proto/api/manifest.js';
import { applyDefaults } from '../defaults.js';
import { validateObject, validateUpdate } from './index.js';

const G = 'rbac.authorization.k8s.io';
const RV = `${G}/v1`;

function parse(doc: JsonObject) {
  const { info, object } = fromManifest(doc);
  applyDefaults(info, object);
  return { info, object };
}

function problems(doc: JsonObject): string[] {
  const { info, object } = parse(doc);
  return validateObject(info, object, 'src').map((c) => `${c.field}: ${c.message}`);
}

describe('RBAC validation', () => {
  it('accepts Kubernetes\' manifests, names with colons included', () => {
    expect(problems({ apiVersion: RV, kind: 'ClusterRole', metadata: { name: 'system:thing' }, rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get'] }, { nonResourceURLs: ['/healthz/*'], verbs: ['get'] }] })).toEqual([]);
    expect(problems({ apiVersion: RV, kind: 'RoleBinding', metadata: { name: 'b', namespace: 'x' }, roleRef: { apiGroup: G, kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'bob' }, { kind: 'ServiceAccount', name: 'bot' }] })).toEqual([]);
  });

  it('names every bad field', () => {
    expect(problems({ apiVersion: RV, kind: 'Role', metadata: { name: 'a/b', namespace: 'x' }, rules: [{ apiGroups: [''], resources: [], verbs: [] }, { nonResourceURLs: ['/x'], verbs: ['get'] }] })).toEqual([
      'metadata.name: may not contain \'/\'',
      'rules[0].verbs: Required value: verbs must contain at least one value',
      'rules[0].resources: Required value: resource rules must supply at least one resource',
      'rules[1].nonResourceURLs: Invalid value: namespaced rules cannot apply to non-resource URLs',
    ]);
    expect(problems({ apiVersion: RV, kind: 'ClusterRoleBinding', metadata: { name: 'b' }, roleRef: { apiGroup: 'x', kind: 'Role', name: '' }, subjects: [{ kind: 'Robot', name: 'r' }, { kind: 'ServiceAccount', name: 'bot' }] })).toEqual([
      'roleRef.apiGroup: Unsupported value: "x": supported values: "rbac.authorization.k8s.io"',
      'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
      'roleRef.name: Required value',
      'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
      'subjects[1].namespace: Required value',
    ]);
  });

  it('refuses aggregationRule rather than ignore it', () => {
    expect(problems({ apiVersion: RV, kind: 'ClusterRole', metadata: { name: 'agg' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] } })).toEqual([
      'aggregationRule: Forbidden: aggregated ClusterRoles are not supported by Skiff: list the rules in the role itself',
    ]);
  });

  it('keeps roleRef immutable', () => {
    const old = parse({ apiVersion: RV, kind: 'RoleBinding', metadata: { name: 'b', namespace: 'x' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'view' } });
    const next = parse({ apiVersion: RV, kind: 'RoleBinding', metadata: { name: 'b', namespace: 'x' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'edit' } });
    expect(validateUpdate(old.info, next.object, old.object).map((c) => `${c.field}: ${c.message}`)).toEqual([
      'roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"edit"}: cannot change roleRef',
    ]);
  });
});
