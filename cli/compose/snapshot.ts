// Reads the project's objects from the API server: one list per kind, by the project label.
import { unwrapAs } from '../../proto/api/kinds.js';
import type { Deployment } from '../../proto/gen/skiff/v1/apps.js';
import type { Pod, Service } from '../../proto/gen/skiff/v1/core.js';
import type { Api } from '../client.js';
import type { ServiceSnapshot } from './status.js';
import { PROJECT_LABEL, SERVICE_LABEL } from './translate/names.js';

export interface ProjectObjects {
  deployments: Deployment[];
  pods: Pod[];
  services: Service[];
}

export async function readProject(api: Api, namespace: string, project: string): Promise<ProjectObjects> {
  const labelSelector = `${PROJECT_LABEL}=${project}`;
  const [d, p, s] = await Promise.all([
    api.list({ kind: 'Deployment', namespace, labelSelector }),
    api.list({ kind: 'Pod', namespace, labelSelector }),
    api.list({ kind: 'Service', namespace, labelSelector }),
  ]);
  return {
    deployments: d.items.map((r) => unwrapAs('Deployment', r)),
    pods: p.items.map((r) => unwrapAs('Pod', r)),
    services: s.items.map((r) => unwrapAs('Service', r)),
  };
}

const serviceOf = (o: { metadata?: { labels: Record<string, string> } }): string => o.metadata?.labels[SERVICE_LABEL] ?? '';

/** The snapshot of one compose service. kind: the file's (when known), else what exists. */
export function snapshotOf(objs: ProjectObjects, service: string, kind?: 'Deployment' | 'Pod'): ServiceSnapshot {
  const deployment = objs.deployments.find((d) => serviceOf(d) === service);
  const pods = objs.pods.filter((p) => serviceOf(p) === service);
  return { name: service, kind: kind ?? (deployment ? 'Deployment' : 'Pod'), deployment, pods, services: objs.services.filter((s) => serviceOf(s) === service) };
}

/** Compose service names present in the cluster, sorted. */
export function serviceNames(objs: ProjectObjects): string[] {
  return [...new Set([...objs.deployments, ...objs.pods, ...objs.services].map(serviceOf).filter(Boolean))].sort();
}
