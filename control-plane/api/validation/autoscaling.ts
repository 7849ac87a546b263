// HorizontalPodAutoscaler (autoscaling/v2) rules, with Kubernetes' messages where it has them.
// Skiff scales Deployments on Resource metrics (cpu, memory) only: anything else is refused
// here with its field path instead of being accepted and ignored.
import { parseQuantity, QuantityError } from '../../../proto/api/quantity.js';
import type { HorizontalPodAutoscaler, HPAScalingRules } from '../../../proto/gen/skiff/v1/autoscaling.js';
import type { Causes } from './causes.js';

const MAX_PERIOD_SECONDS = 1800;
const MAX_STABILIZATION_SECONDS = 3600;

function validateRules(r: HPAScalingRules | undefined, path: string, c: Causes): void {
  if (!r) return;
  const w = r.stabilizationWindowSeconds;
  if (w !== undefined && (w < 0 || w > MAX_STABILIZATION_SECONDS)) c.add(`${path}.stabilizationWindowSeconds`, `must be between 0 and ${MAX_STABILIZATION_SECONDS}`);
  if (r.selectPolicy && !['Max', 'Min', 'Disabled'].includes(r.selectPolicy)) {
    c.add(`${path}.selectPolicy`, `unsupported value "${r.selectPolicy}": supported values: "Disabled", "Max", "Min"`);
  }
  r.policies.forEach((p, i) => {
    const at = `${path}.policies[${i}]`;
    if (p.type !== 'Pods' && p.type !== 'Percent') c.add(`${at}.type`, `unsupported value "${p.type}": supported values: "Percent", "Pods"`);
    if (p.value <= 0) c.add(`${at}.value`, 'must be greater than zero');
    if (p.periodSeconds <= 0) c.add(`${at}.periodSeconds`, 'must be greater than zero');
    else if (p.periodSeconds > MAX_PERIOD_SECONDS) c.add(`${at}.periodSeconds`, `must be less than or equal to ${MAX_PERIOD_SECONDS}`);
  });
}

export function validateHorizontalPodAutoscaler(h: HorizontalPodAutoscaler, c: Causes): void {
  const s = h.spec;
  if (!s) {
    c.add('spec', 'required');
    return;
  }
  const ref = s.scaleTargetRef;
  if (!ref?.kind) c.add('spec.scaleTargetRef.kind', 'required');
  else if (ref.kind !== 'Deployment') {
    c.add('spec.scaleTargetRef.kind', `unsupported value "${ref.kind}": Skiff autoscales Deployments only: supported values: "Deployment"`);
  }
  if (!ref?.name) c.add('spec.scaleTargetRef.name', 'required');
  if (ref?.apiVersion && ref.apiVersion !== 'apps/v1') c.add('spec.scaleTargetRef.apiVersion', `unsupported value "${ref.apiVersion}": supported values: "apps/v1"`);
  const min = s.minReplicas ?? 1;
  if (min < 1) c.add('spec.minReplicas', 'must be greater than or equal to 1');
  if (s.maxReplicas < 1) c.add('spec.maxReplicas', 'must be greater than 0');
  else if (s.maxReplicas < min) c.add('spec.maxReplicas', 'must be greater than or equal to `minReplicas`');
  s.metrics.forEach((m, i) => {
    const at = `spec.metrics[${i}]`;
    if (m.type !== 'Resource') {
      c.add(`${at}.type`, `unsupported value "${m.type}": Skiff serves resource metrics only: supported values: "Resource"`);
      return;
    }
    const r = m.resource;
    if (!r) {
      c.add(`${at}.resource`, 'must populate information for the given metric source');
      return;
    }
    if (r.name !== 'cpu' && r.name !== 'memory') c.add(`${at}.resource.name`, `unsupported value "${r.name}": supported values: "cpu", "memory"`);
    const t = r.target;
    if (!t) {
      c.add(`${at}.resource.target`, 'required');
      return;
    }
    if (t.type === 'Utilization') {
      if (t.averageUtilization === undefined) c.add(`${at}.resource.target.averageUtilization`, 'must set averageUtilization when target type is Utilization');
      else if (t.averageUtilization <= 0) c.add(`${at}.resource.target.averageUtilization`, 'must be greater than 0');
      if (t.averageValue) c.add(`${at}.resource.target.averageValue`, 'may not set both a target raw value and a target utilization');
    } else if (t.type === 'AverageValue') {
      if (!t.averageValue) c.add(`${at}.resource.target.averageValue`, 'must set averageValue when target type is AverageValue');
      else {
        try {
          if (parseQuantity(t.averageValue).value <= 0) c.add(`${at}.resource.target.averageValue`, 'must be positive');
        } catch (e) {
          if (!(e instanceof QuantityError)) throw e;
          c.add(`${at}.resource.target.averageValue`, e.message);
        }
      }
      if (t.averageUtilization !== undefined) c.add(`${at}.resource.target.averageUtilization`, 'may not set both a target raw value and a target utilization');
    } else {
      c.add(`${at}.resource.target.type`, `unsupported value "${t.type}": for resource metric, the target type must be either Utilization or AverageValue`);
    }
    if (t.value) c.add(`${at}.resource.target.value`, 'for resource metric, the target type must be either Utilization or AverageValue');
  });
  validateRules(s.behavior?.scaleUp, 'spec.behavior.scaleUp', c);
  validateRules(s.behavior?.scaleDown, 'spec.behavior.scaleDown', c);
}
