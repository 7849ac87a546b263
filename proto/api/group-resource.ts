// The API group and resource (plural) of a kind, as RBAC rules and authorization name them:
// Deployment -> apps, deployments; Pod -> "", pods; PodMetrics -> metrics.k8s.io, pods.
import type { KindInfo } from './kinds.js';

export function groupResource(info: KindInfo): { apiGroup: string; resource: string } {
  const slash = info.apiVersion.indexOf('/');
  const apiGroup = slash < 0 ? '' : info.apiVersion.slice(0, slash);
  // The metrics kinds' plurals carry their group ("pods.metrics.k8s.io").
  const resource = apiGroup && info.plural.endsWith(`.${apiGroup}`) ? info.plural.slice(0, -apiGroup.length - 1) : info.plural;
  return { apiGroup, resource };
}
