// Deployment and ReplicaSet rules (Kubernetes' apps validation): selector present, non-empty
// and matching the template, rollout strategy parameters, and the selector is immutable.
import type { Deployment, ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import type { PodTemplateSpec } from '../../../proto/gen/skiff/v1/core.js';
import type { IntOrString, LabelSelector } from '../../../proto/gen/skiff/v1/meta.js';
import { canonicalEqual } from '../../storage/canonical.js';
import { isValidLabelKey, isValidLabelValue, selectorMatches } from '../../storage/labels.js';
import { Causes, join } from './causes.js';
import { validateLabels } from './meta.js';
import { validatePodSpec } from './pod.js';

const SELECTOR_OPS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

function validateSelector(sel: LabelSelector | undefined, path: string, c: Causes): boolean {
  if (!sel) {
    c.add(path, 'required');
    return false;
  }
  if (Object.keys(sel.matchLabels).length === 0 && sel.matchExpressions.length === 0) {
    c.add(path, 'empty selector is invalid for deployment and replicaset: it would select every pod');
    return false;
  }
  let ok = true;
  validateLabels(sel.matchLabels, join(path, 'matchLabels'), c);
  sel.matchExpressions.forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    if (!isValidLabelKey(e.key)) {
      c.add(join(p, 'key'), `"${e.key}" is not a valid label key`);
      ok = false;
    }
    if (!SELECTOR_OPS.includes(e.operator)) {
      c.add(join(p, 'operator'), `unsupported value "${e.operator}": supported values: "In", "NotIn", "Exists", "DoesNotExist"`);
      ok = false;
    } else if ((e.operator === 'In' || e.operator === 'NotIn') && e.values.length === 0) {
      c.add(join(p, 'values'), 'must be specified when operator is In or NotIn');
      ok = false;
    } else if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && e.values.length > 0) {
      c.add(join(p, 'values'), 'may not be specified when operator is Exists or DoesNotExist');
      ok = false;
    }
    e.values.forEach((v, j) => {
      if (!isValidLabelValue(v)) c.add(`${p}.values[${j}]`, `"${v}" is not a valid label value`);
    });
  });
  return ok;
}

function validateTemplate(t: PodTemplateSpec | undefined, sel: LabelSelector | undefined, selOk: boolean, path: string, c: Causes): void {
  if (!t) return c.add(path, 'required');
  const labels = t.metadata?.labels ?? {};
  validateLabels(labels, join(path, 'metadata.labels'), c);
  if (selOk && sel && !selectorMatches(sel, labels)) {
    c.add(join(path, 'metadata.labels'), '`selector` does not match template `labels`');
  }
  validatePodSpec(t.spec, join(path, 'spec'), c);
  const rp = t.spec?.restartPolicy;
  // Values outside the enum are already reported by validatePodSpec.
  if (rp && rp !== 'Always' && ['OnFailure', 'Never'].includes(rp)) c.add(join(path, 'spec.restartPolicy'), `unsupported value "${rp}": supported values: "Always"`);
  if (t.spec?.activeDeadlineSeconds !== undefined) c.add(join(path, 'spec.activeDeadlineSeconds'), 'forbidden: activeDeadlineSeconds in a template is forbidden');
}

/** The int or percent of a rolling-update parameter; undefined when malformed (reported). */
function intOrPercent(v: IntOrString, path: string, c: Causes): { value: number; percent: boolean } | undefined {
  if (v.type === 0) {
    if (v.intVal < 0) c.add(path, 'must be greater than or equal to 0');
    return { value: v.intVal, percent: false };
  }
  const m = /^([0-9]+)%$/.exec(v.strVal);
  if (!m) {
    c.add(path, `"${v.strVal}" must be an integer or percentage (e.g. 5 or "5%")`);
    return undefined;
  }
  return { value: Number(m[1]), percent: true };
}

export function validateDeployment(d: Deployment, c: Causes): void {
  const s = d.spec;
  if (!s) return c.add('spec', 'required');
  if (s.replicas !== undefined && s.replicas < 0) c.add('spec.replicas', 'must be greater than or equal to 0');
  if (s.minReadySeconds < 0) c.add('spec.minReadySeconds', 'must be greater than or equal to 0');
  if (s.revisionHistoryLimit !== undefined && s.revisionHistoryLimit < 0) c.add('spec.revisionHistoryLimit', 'must be greater than or equal to 0');
  if (s.progressDeadlineSeconds !== undefined) {
    if (s.progressDeadlineSeconds < 0) c.add('spec.progressDeadlineSeconds', 'must be greater than or equal to 0');
    else if (s.progressDeadlineSeconds <= s.minReadySeconds) c.add('spec.progressDeadlineSeconds', 'must be greater than minReadySeconds');
  }
  const selOk = validateSelector(s.selector, 'spec.selector', c);
  validateTemplate(s.template, s.selector, selOk, 'spec.template', c);
  const st = s.strategy;
  if (st) {
    if (st.type !== 'RollingUpdate' && st.type !== 'Recreate') {
      c.add('spec.strategy.type', `unsupported value "${st.type}": supported values: "Recreate", "RollingUpdate"`);
    } else if (st.type === 'Recreate' && st.rollingUpdate) {
      c.add('spec.strategy.rollingUpdate', 'may not be specified when strategy `type` is \'Recreate\'');
    } else if (st.type === 'RollingUpdate' && st.rollingUpdate) {
      const ru = st.rollingUpdate;
      const unavail = ru.maxUnavailable && intOrPercent(ru.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable', c);
      const surge = ru.maxSurge && intOrPercent(ru.maxSurge, 'spec.strategy.rollingUpdate.maxSurge', c);
      if (unavail?.percent && unavail.value > 100) c.add('spec.strategy.rollingUpdate.maxUnavailable', 'must not be greater than 100%');
      if (unavail && surge && unavail.value === 0 && surge.value === 0) {
        c.add('spec.strategy.rollingUpdate.maxUnavailable', 'may not be 0 when `maxSurge` is 0');
      }
    }
  }
}

export function validateReplicaSet(rs: ReplicaSet, c: Causes): void {
  const s = rs.spec;
  if (!s) return c.add('spec', 'required');
  if (s.replicas !== undefined && s.replicas < 0) c.add('spec.replicas', 'must be greater than or equal to 0');
  if (s.minReadySeconds < 0) c.add('spec.minReadySeconds', 'must be greater than or equal to 0');
  const selOk = validateSelector(s.selector, 'spec.selector', c);
  validateTemplate(s.template, s.selector, selOk, 'spec.template', c);
}

/** apps/v1 selectors cannot change after creation (the controller would orphan its pods). */
export function validateSelectorUnchanged(next: LabelSelector | undefined, old: LabelSelector | undefined, c: Causes): void {
  if (!canonicalEqual(next, old)) c.add('spec.selector', 'field is immutable');
}
