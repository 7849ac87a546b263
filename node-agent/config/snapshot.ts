// What a pod's configuration is resolved from: the ConfigMaps and Secrets of its namespace that
// it refers to, as read now (absent = does not exist). Pure helpers list a pod's references.
import type { ConfigMap, Secret } from '../../proto/gen/skiff/v1/config.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';

export interface ConfigSnapshot {
  configMaps: ReadonlyMap<string, ConfigMap>;
  secrets: ReadonlyMap<string, Secret>;
}

export type ConfigKind = 'ConfigMap' | 'Secret';

export interface ConfigRef {
  kind: ConfigKind;
  namespace: string;
  name: string;
}

export const refKey = (r: ConfigRef): string => `${r.kind}/${r.namespace}/${r.name}`;

/** A config problem the user must fix; the container waits with CreateContainerConfigError. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Every ConfigMap and Secret the pod refers to (env, envFrom, volumes, imagePullSecrets), once each. */
export function podRefs(pod: Pod): ConfigRef[] {
  const ns = pod.metadata?.namespace ?? '';
  const out = new Map<string, ConfigRef>();
  const add = (kind: ConfigKind, name: string): void => {
    if (name) out.set(`${kind}/${name}`, { kind, namespace: ns, name });
  };
  const spec = pod.spec;
  for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
    for (const e of c.env) {
      if (e.valueFrom?.configMapKeyRef) add('ConfigMap', e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef) add('Secret', e.valueFrom.secretKeyRef.name);
    }
    for (const f of c.envFrom) {
      if (f.configMapRef) add('ConfigMap', f.configMapRef.name);
      if (f.secretRef) add('Secret', f.secretRef.name);
    }
  }
  for (const v of spec?.volumes ?? []) {
    if (v.configMap) add('ConfigMap', v.configMap.name);
    if (v.secret) add('Secret', v.secret.secretName);
  }
  for (const s of spec?.imagePullSecrets ?? []) add('Secret', s.name);
  return [...out.values()];
}

export function notFound(kind: ConfigKind, name: string): string {
  return `${kind === 'ConfigMap' ? 'configmap' : 'secret'} "${name}" not found`;
}
