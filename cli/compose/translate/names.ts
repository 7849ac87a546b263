// Names and labels of the objects a project becomes. Compose allows service names Kubernetes
// does not ("web_1", "My.App"): they become DNS labels (lowercase, "_" and "." to "-"), and two
// services mapping to one name are refused.
export const PART_OF = 'app.kubernetes.io/part-of';
export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';
export const MANAGED_BY = 'app.kubernetes.io/managed-by';
/** Which compose key an object came from (a volume, secret or config), for `down -v`. */
export const COMPOSE_KEY_ANNOTATION = 'skiff.dev/compose-key';

/** Compose's project name normalisation: lowercase, only a-z 0-9 _ -, starting with a letter or digit. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');
}

/** A DNS-1123 label from a compose name; "" when nothing usable is left. */
export function k8sName(name: string): string {
  return name.toLowerCase().replace(/[_.]/g, '-').replace(/[^a-z0-9-]/g, '').replace(/^-+|-+$/g, '').slice(0, 63);
}

export function projectLabels(project: string, service?: string): Record<string, string> {
  const l: Record<string, string> = { [PART_OF]: project, [PROJECT_LABEL]: project, [MANAGED_BY]: 'skiff-compose' };
  if (service !== undefined) l[SERVICE_LABEL] = service;
  return l;
}

export function selectorLabels(project: string, service: string): Record<string, string> {
  return { [PROJECT_LABEL]: project, [SERVICE_LABEL]: service };
}
