// ObjectMeta rules: name and namespace formats, label and annotation syntax, owner references.
import type { KindInfo } from '../../../proto/api/kinds.js';
import type { ObjectMeta } from '../../../proto/gen/skiff/v1/meta.js';
import { isValidLabelKey, isValidLabelValue } from '../../storage/labels.js';
import { Causes, join } from './causes.js';
import { dns1035Label, dns1123Label, dns1123Subdomain } from './names.js';

const ANNOTATIONS_MAX_BYTES = 256 * 1024;

// Kubernetes names RBAC objects by path segment ("system:node-bootstrapper"), not DNS rules.
const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

/** Kubernetes' ValidatePathSegmentName. */
function pathSegmentName(name: string): string | undefined {
  if (name === '.' || name === '..') return `may not be '${name}'`;
  const bad = ['/', '%'].find((ch) => name.includes(ch));
  return bad ? `may not contain '${bad}'` : undefined;
}

export function validateLabels(labels: Record<string, string>, path: string, c: Causes): void {
  for (const [k, v] of Object.entries(labels)) {
    if (!isValidLabelKey(k)) {
      c.add(`${path}[${k}]`, `"${k}" is not a valid label key: an optional DNS subdomain prefix and "/", then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`);
    }
    if (!isValidLabelValue(v)) {
      c.add(`${path}[${k}]`, `"${v}" is not a valid label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (or empty)`);
    }
  }
}

export function validateObjectMeta(info: KindInfo, m: ObjectMeta | undefined, c: Causes): void {
  if (!m) {
    c.add('metadata', 'required');
    return;
  }
  const nameRule = info.kind === 'Namespace' ? dns1123Label : info.kind === 'Service' ? dns1035Label : RBAC_KINDS.has(info.kind) ? pathSegmentName : dns1123Subdomain;
  if (!m.name && !m.generateName) c.add('metadata.name', 'required');
  else if (m.name) {
    const why = nameRule(m.name);
    if (why) c.add('metadata.name', why);
  } else {
    // generateName gets 5 random characters appended, so it is checked with room for them.
    const why = nameRule(`${m.generateName}a`.replace(/-a$/, 'a'));
    if (why) c.add('metadata.generateName', why);
  }
  if (info.namespaced && m.namespace) {
    const why = dns1123Label(m.namespace);
    if (why) c.add('metadata.namespace', why);
  }
  validateLabels(m.labels, 'metadata.labels', c);
  let size = 0;
  for (const [k, v] of Object.entries(m.annotations)) {
    size += k.length + v.length;
    if (!isValidLabelKey(k)) c.add(`metadata.annotations[${k}]`, `"${k}" is not a valid annotation key`);
  }
  if (size > ANNOTATIONS_MAX_BYTES) c.add('metadata.annotations', `too long: must have at most ${ANNOTATIONS_MAX_BYTES} bytes`);
  m.ownerReferences.forEach((r, i) => {
    const p = `metadata.ownerReferences[${i}]`;
    if (!r.apiVersion) c.add(join(p, 'apiVersion'), 'required');
    if (!r.kind) c.add(join(p, 'kind'), 'required');
    if (!r.name) c.add(join(p, 'name'), 'required');
    if (!r.uid) c.add(join(p, 'uid'), 'required');
  });
  if (m.ownerReferences.filter((r) => r.controller === true).length > 1) {
    c.add('metadata.ownerReferences', 'only one reference can have controller set to true');
  }
  m.finalizers.forEach((f, i) => {
    if (!isValidLabelKey(f)) c.add(`metadata.finalizers[${i}]`, `"${f}" is not a valid finalizer name`);
  });
}
