// The objects a pod needs from the API to run (Kubernetes' node authorizer graph edges): the
// Secrets and ConfigMaps of its volumes, env and envFrom, its image pull Secrets, and its
// PersistentVolumeClaims.
import type { Pod } from '../../proto/gen/skiff/v1/core.js';

export type RefKind = 'Secret' | 'ConfigMap' | 'PersistentVolumeClaim';

/** "Kind/namespace/name". */
export const refKey = (kind: RefKind | 'PersistentVolume', namespace: string, name: string): string => `${kind}/${namespace}/${name}`;

export function podRefs(p: Pod): string[] {
  const ns = p.metadata?.namespace ?? '';
  const out = new Set<string>();
  const add = (kind: RefKind, name: string | undefined): void => {
    if (name) out.add(refKey(kind, ns, name));
  };
  const spec = p.spec;
  if (!spec) return [];
  for (const r of spec.imagePullSecrets) add('Secret', r.name);
  for (const v of spec.volumes) {
    add('Secret', v.secret?.secretName);
    add('ConfigMap', v.configMap?.name);
    add('PersistentVolumeClaim', v.persistentVolumeClaim?.claimName);
  }
  for (const c of [...spec.initContainers, ...spec.containers]) {
    for (const e of c.env) {
      add('Secret', e.valueFrom?.secretKeyRef?.name);
      add('ConfigMap', e.valueFrom?.configMapKeyRef?.name);
    }
    for (const e of c.envFrom) {
      add('Secret', e.secretRef?.name);
      add('ConfigMap', e.configMapRef?.name);
    }
  }
  return [...out];
}
