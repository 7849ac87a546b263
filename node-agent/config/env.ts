// A container's environment from its spec and a snapshot, as the kubelet builds it: envFrom
// sources first in order (keys prefixed; keys that are not valid variable names are skipped
// and reported), then env entries, which win; a missing object or key that is not optional is
// a ConfigError naming it, an optional one leaves the variable out. Pure.
import type { Container, Pod } from '../../proto/gen/skiff/v1/core.js';
import { ConfigError, notFound, type ConfigSnapshot } from './snapshot.js';

export interface ResolvedEnv {
  env: { name: string; value: string }[];
  /** envFrom keys left out because they are not valid variable names (kubelet's InvalidEnvironmentVariableNames). */
  skipped: string[];
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function entries(kind: 'ConfigMap' | 'Secret', name: string, s: ConfigSnapshot): [string, string][] | undefined {
  if (kind === 'ConfigMap') {
    const cm = s.configMaps.get(name);
    return cm && Object.entries(cm.data);
  }
  const sec = s.secrets.get(name);
  return sec && Object.entries(sec.data).map(([k, v]) => [k, Buffer.from(v).toString('utf8')]);
}

export function resolveEnv(pod: Pod, c: Container, s: ConfigSnapshot): ResolvedEnv {
  const ns = pod.metadata?.namespace ?? '';
  const vars = new Map<string, string>();
  const skipped: string[] = [];
  for (const f of c.envFrom) {
    const kind = f.configMapRef ? 'ConfigMap' : 'Secret';
    const ref = f.configMapRef ?? f.secretRef;
    if (!ref) continue;
    const kv = entries(kind, ref.name, s);
    if (!kv) {
      if (ref.optional) continue;
      throw new ConfigError(notFound(kind, ref.name));
    }
    for (const [k, v] of kv) {
      const name = f.prefix + k;
      if (ENV_NAME.test(name)) vars.set(name, v);
      else skipped.push(name);
    }
  }
  for (const e of c.env) {
    const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
    if (!ref) {
      vars.set(e.name, e.value);
      continue;
    }
    const kind = e.valueFrom?.configMapKeyRef ? 'ConfigMap' : 'Secret';
    const kv = entries(kind, ref.name, s);
    if (!kv) {
      if (ref.optional) continue;
      throw new ConfigError(notFound(kind, ref.name));
    }
    const hit = kv.find(([k]) => k === ref.key);
    if (!hit) {
      if (ref.optional) continue;
      throw new ConfigError(`couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name}`);
    }
    vars.set(e.name, hit[1]);
  }
  return { env: [...vars].map(([name, value]) => ({ name, value })), skipped };
}
