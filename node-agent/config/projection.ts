// The files of a configMap or secret volume from a snapshot, as the kubelet projects them:
// every key at a file of its name, or only the listed items at their paths (a listed key that
// is missing is an error unless the volume is optional), with mode or defaultMode (0644).
// Undefined when an optional object is missing (the volume is empty). Pure.
import type { Volume } from '../../proto/gen/skiff/v1/core.js';
import { ConfigError, notFound, type ConfigSnapshot } from './snapshot.js';

export const DEFAULT_MODE = 0o644;

export interface ProjectedFile {
  data: Buffer;
  mode: number;
}

export function projectVolume(v: Volume, s: ConfigSnapshot): Map<string, ProjectedFile> {
  const src = v.configMap ?? v.secret;
  if (!src) throw new Error(`volume ${v.name} is not a configMap or secret volume`);
  const kind = v.configMap ? 'ConfigMap' : 'Secret';
  const name = v.configMap ? v.configMap.name : v.secret!.secretName;
  let data: Map<string, Buffer> | undefined;
  if (v.configMap) {
    const cm = s.configMaps.get(name);
    if (cm) data = new Map([...Object.entries(cm.data).map(([k, x]): [string, Buffer] => [k, Buffer.from(x, 'utf8')]), ...Object.entries(cm.binaryData).map(([k, x]): [string, Buffer] => [k, Buffer.from(x)])]);
  } else {
    const sec = s.secrets.get(name);
    if (sec) data = new Map(Object.entries(sec.data).map(([k, x]): [string, Buffer] => [k, Buffer.from(x)]));
  }
  const out = new Map<string, ProjectedFile>();
  if (!data) {
    if (src.optional) return out;
    throw new ConfigError(notFound(kind, name));
  }
  const mode = src.defaultMode ?? DEFAULT_MODE;
  if (src.items.length === 0) {
    for (const [k, x] of data) out.set(k, { data: x, mode });
    return out;
  }
  for (const it of src.items) {
    const x = data.get(it.key);
    if (!x) {
      if (src.optional) continue;
      throw new ConfigError(`volume "${v.name}": ${kind === 'ConfigMap' ? 'configmap' : 'secret'} references non-existent config key: ${it.key}`);
    }
    out.set(it.path, { data: x, mode: it.mode ?? mode });
  }
  return out;
}
