// Kubernetes' ValidatePodUpdate: once created, a pod's spec may only change in the fields the
// kubelet can act on in place: container and init container images, activeDeadlineSeconds
// (set when unset, or lowered), tolerations (additions only), and nodeName once (binding).
// Anything else is refused with the paths that changed.
import { PodSpec, type Pod, type Toleration } from '../../../proto/gen/skiff/v1/core.js';
import type { Causes } from './causes.js';

const ALLOWED =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,' +
  '`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)';
const MAX_PATHS = 5;

/** Field paths where two JSON values differ, deepest first reached, in document order. */
function changedPaths(a: unknown, b: unknown, path: string, out: string[]): void {
  if (out.length >= MAX_PATHS) return;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) {
      out.push(path);
      return;
    }
    a.forEach((x, i) => changedPaths(x, b[i], `${path}[${i}]`, out));
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) changedPaths(ao[k], bo[k], `${path}.${k}`, out);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path);
}

const sameToleration = (a: Toleration, b: Toleration): boolean => JSON.stringify(a) === JSON.stringify(b);

export function validatePodUpdate(next: Pod, old: Pod, c: Causes): void {
  const ns = next.spec ?? PodSpec.fromPartial({});
  const os = old.spec ?? PodSpec.fromPartial({});
  if (os.nodeName && ns.nodeName !== os.nodeName) c.add('spec.nodeName', `field is immutable once the pod is bound (bound to "${os.nodeName}")`);
  if (os.activeDeadlineSeconds !== undefined) {
    if (ns.activeDeadlineSeconds === undefined) c.add('spec.activeDeadlineSeconds', 'Invalid value: "null": must not update from a positive integer to nil value');
    else if (ns.activeDeadlineSeconds > os.activeDeadlineSeconds) {
      c.add('spec.activeDeadlineSeconds', `Invalid value: ${ns.activeDeadlineSeconds}: must be less than or equal to previous value`);
    }
  }
  const dropped = os.tolerations.filter((t) => !ns.tolerations.some((n) => sameToleration(n, t)));
  if (dropped.length) c.add('spec.tolerations', 'Forbidden: existing toleration can not be modified or removed (only additions are allowed)');

  // The new spec with what may change taken from the old one: whatever still differs may not change.
  const masked = PodSpec.fromPartial(ns);
  masked.containers.forEach((ct, i) => {
    const was = os.containers[i];
    if (was && was.name === ct.name) ct.image = was.image;
  });
  masked.initContainers.forEach((ct, i) => {
    const was = os.initContainers[i];
    if (was && was.name === ct.name) ct.image = was.image;
  });
  masked.activeDeadlineSeconds = os.activeDeadlineSeconds;
  masked.tolerations = os.tolerations;
  // Binding (the scheduler sets nodeName on an unbound pod, Kubernetes' binding subresource) is
  // allowed; a rebinding is reported above.
  masked.nodeName = os.nodeName;
  const changed: string[] = [];
  changedPaths(PodSpec.toJSON(os), PodSpec.toJSON(masked), 'spec', changed);
  if (changed.length) c.add('spec', `Forbidden: ${ALLOWED} (changed: ${changed.join(', ')})`);
}
