import { describe, expect, it } from 'vitest';
import { fromManifest, toManifest, type JsonObject } from '../../../proto/api/manifest.js';
import { applyDefaults } from '../defaults.js';
import { validateObject } from './index.js';

function hpa(spec: JsonObject): JsonObject {
  return { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' }, spec };
}

function problems(doc: JsonObject): string[] {
  const { info, object } = fromManifest(doc);
  applyDefaults(info, object);
  return validateObject(info, object, 'src').map((c) => `${c.field}: ${c.message}`);
}

const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };

describe('HorizontalPodAutoscaler', () => {
  it('defaults as Kubernetes: minReplicas 1, 80% CPU, behavior filled in where given', () => {
    const { info, object } = fromManifest(hpa({ scaleTargetRef: ref, maxReplicas: 5, behavior: { scaleDown: { stabilizationWindowSeconds: 30 } } }));
    applyDefaults(info, object);
    expect(toManifest(info, object)).toMatchObject({
      spec: {
        minReplicas: 1,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
        behavior: {
          scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
          scaleDown: { stabilizationWindowSeconds: 30, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
        },
      },
    });
    expect(problems(hpa({ scaleTargetRef: ref, maxReplicas: 5 }))).toEqual([]);
  });

  it('refuses targets other than a Deployment and what it would not act on, with field paths', () => {
    expect(problems(hpa({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db' },
      minReplicas: 3,
      maxReplicas: 2,
      metrics: [
        { type: 'Pods' },
        { type: 'Resource', resource: { name: 'gpu', target: { type: 'Value', value: '1' } } },
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } },
        { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: 'lots' } } },
      ],
      behavior: { scaleUp: { selectPolicy: 'Fastest', policies: [{ type: 'Replicas', value: 0, periodSeconds: 4000 }] } },
    }))).toEqual([
      'spec.scaleTargetRef.kind: unsupported value "StatefulSet": Skiff autoscales Deployments only: supported values: "Deployment"',
      'spec.maxReplicas: must be greater than or equal to `minReplicas`',
      'spec.metrics[0].type: unsupported value "Pods": Skiff serves resource metrics only: supported values: "Resource"',
      'spec.metrics[1].resource.name: unsupported value "gpu": supported values: "cpu", "memory"',
      'spec.metrics[1].resource.target.type: unsupported value "Value": for resource metric, the target type must be either Utilization or AverageValue',
      'spec.metrics[1].resource.target.value: for resource metric, the target type must be either Utilization or AverageValue',
      'spec.metrics[2].resource.target.averageUtilization: must set averageUtilization when target type is Utilization',
      'spec.metrics[3].resource.target.averageValue: "lots" is not a quantity: use a number with an optional suffix, e.g. "100m", "0.5", "128Mi", "1Gi", "1e3"',
      'spec.behavior.scaleUp.selectPolicy: unsupported value "Fastest": supported values: "Disabled", "Max", "Min"',
      'spec.behavior.scaleUp.policies[0].type: unsupported value "Replicas": supported values: "Percent", "Pods"',
      'spec.behavior.scaleUp.policies[0].value: must be greater than zero',
      'spec.behavior.scaleUp.policies[0].periodSeconds: must be less than or equal to 1800',
    ]);
  });
});
