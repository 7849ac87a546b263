// spec.behavior with Kubernetes' defaults filled in (SetDefaults_HorizontalPodAutoscalerBehavior
// and the controller's downscale stabilization): scale up at once, by up to 4 pods or 100% per
// 15 s, whichever is more; scale down after a 300 s window, by up to 100% per 15 s.
import type { HorizontalPodAutoscalerSpec, HPAScalingRules } from '../../../proto/gen/skiff/v1/autoscaling.js';
import type { Behavior, ScalingRules } from './normalize.js';

export const DEFAULT_SCALE_UP: ScalingRules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
};

export const DEFAULT_SCALE_DOWN: ScalingRules = {
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

function rules(r: HPAScalingRules | undefined, d: ScalingRules): ScalingRules {
  return {
    stabilizationWindowSeconds: r?.stabilizationWindowSeconds ?? d.stabilizationWindowSeconds,
    selectPolicy: r?.selectPolicy || d.selectPolicy,
    policies: r?.policies.length ? r.policies.map((p) => ({ type: p.type, value: p.value, periodSeconds: p.periodSeconds })) : d.policies,
  };
}

/** The behavior to apply; undefined when the HPA has none (the controller's older rules apply). */
export function behaviorOf(spec: HorizontalPodAutoscalerSpec | undefined): Behavior | undefined {
  const b = spec?.behavior;
  if (!b) return undefined;
  return { scaleUp: rules(b.scaleUp, DEFAULT_SCALE_UP), scaleDown: rules(b.scaleDown, DEFAULT_SCALE_DOWN) };
}

/** The behavior with every default written out, as the API server stores it. */
export function defaultedRules(r: HPAScalingRules | undefined, up: boolean): HPAScalingRules {
  const d = rules(r, up ? DEFAULT_SCALE_UP : DEFAULT_SCALE_DOWN);
  return { stabilizationWindowSeconds: d.stabilizationWindowSeconds, selectPolicy: d.selectPolicy, policies: d.policies };
}
