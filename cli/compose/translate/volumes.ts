// Storage of a service. Named volumes -> PersistentVolumeClaims (top-level `volumes`), bind
// mounts -> hostPath (absolute, against the compose file's directory; node-local), anonymous
// volumes and tmpfs -> emptyDir, top-level secrets and configs (file, environment or content)
// -> Secrets and ConfigMaps mounted as files at /run/secrets/NAME and /NAME, as Docker does.
import { posix } from 'node:path';
import type { FileRef, JsonMap, ServiceSpec, TopFile, VolumeLong } from '../model.js';
import { truthy } from '../model.js';
import { projectPath, refuse, warn, type TranslateContext } from './context.js';
import { COMPOSE_KEY_ANNOTATION, k8sName } from './names.js';

export interface Storage {
  volumes: JsonMap[];
  mounts: JsonMap[];
}

/** The claim size when a volume does not give one (driver_opts.size). */
export const DEFAULT_VOLUME_SIZE = '1Gi';

const isPathLike = (s: string): boolean => s.startsWith('.') || s.startsWith('/') || s.startsWith('~');

function parseShort(v: string): VolumeLong & { source?: string; target: string; mode?: string } {
  // SOURCE:TARGET[:MODE] or TARGET; Windows drive letters are not a concern on Skiff nodes.
  const parts = v.split(':');
  if (parts.length === 1) return { type: 'volume', target: parts[0]! };
  const [source, target, mode] = parts as [string, string, string | undefined];
  return { type: isPathLike(source) ? 'bind' : 'volume', source, target, mode, read_only: mode?.split(',').includes('ro') ?? false };
}

/** The claim name of a top-level volume: its `name:` or the key, as a DNS label. */
export function claimName(key: string, spec: { name?: string } | null | undefined): string {
  return k8sName(spec?.name ?? key);
}

export function storage(ctx: TranslateContext, name: string, svc: ServiceSpec): Storage {
  const base = `services.${name}`;
  const top = ctx.project.model.volumes ?? {};
  const out: Storage = { volumes: [], mounts: [] };
  const addVolume = (v: JsonMap): void => {
    if (!out.volumes.some((x) => x.name === v.name)) out.volumes.push(v);
  };
  (svc.volumes ?? []).forEach((entry, i) => {
    const path = `${base}.volumes[${i}]`;
    const v = typeof entry === 'string' ? parseShort(entry) : entry;
    const target = v.target;
    if (!target || !target.startsWith('/')) {
      refuse(ctx, path, `the mount target must be an absolute path in the container, not "${target ?? ''}"`);
      return;
    }
    const readOnly = v.read_only !== undefined && truthy(v.read_only);
    const mount = (volName: string): void => {
      out.mounts.push({ name: volName, mountPath: target, ...(readOnly ? { readOnly: true } : {}) });
    };
    if (v.type === 'bind') {
      const src = projectPath(ctx, v.source ?? '');
      const volName = `bind-${i}`;
      addVolume({ name: volName, hostPath: { path: src } });
      mount(volName);
      warn(ctx, path, `bind mount of ${src}: a hostPath on whichever node runs the pod (node-local; on several nodes each has its own copy)`);
    } else if (v.type === 'volume') {
      if (!v.source) {
        const volName = `anon-${i}`;
        addVolume({ name: volName, emptyDir: {} });
        mount(volName);
        return;
      }
      if (!(v.source in top)) {
        refuse(ctx, path, `refers to undefined volume "${v.source}": declare it under the top-level volumes:`);
        return;
      }
      const claim = claimName(v.source, top[v.source]);
      const volName = `vol-${k8sName(v.source)}`;
      addVolume({ name: volName, persistentVolumeClaim: { claimName: claim } });
      mount(volName);
    } else if (v.type === 'tmpfs') {
      const volName = `tmpfs-${i}`;
      addVolume({ name: volName, emptyDir: { medium: 'Memory' } });
      mount(volName);
    } else {
      refuse(ctx, `${path}.type`, `volume type "${v.type}" is not supported: use volume, bind or tmpfs`);
    }
  });
  const tmpfs = svc.tmpfs === undefined ? [] : typeof svc.tmpfs === 'string' ? [svc.tmpfs] : svc.tmpfs;
  tmpfs.forEach((t, i) => {
    const target = t.split(':')[0]!;
    const volName = `tmpfs-x${i}`;
    addVolume({ name: volName, emptyDir: { medium: 'Memory' } });
    out.mounts.push({ name: volName, mountPath: target });
  });
  fileRefs(ctx, name, 'secrets', svc.secrets ?? [], out);
  fileRefs(ctx, name, 'configs', svc.configs ?? [], out);
  return out;
}

function fileRefs(ctx: TranslateContext, service: string, kind: 'secrets' | 'configs', refs: (string | FileRef)[], out: Storage): void {
  const top = (kind === 'secrets' ? ctx.project.model.secrets : ctx.project.model.configs) ?? {};
  refs.forEach((r, i) => {
    const path = `services.${service}.${kind}[${i}]`;
    const ref: FileRef = typeof r === 'string' ? { source: r } : r;
    const spec = top[ref.source];
    if (!spec) {
      refuse(ctx, path, `refers to undefined ${kind === 'secrets' ? 'secret' : 'config'} "${ref.source}": declare it under the top-level ${kind}:`);
      return;
    }
    if (ref.uid !== undefined || ref.gid !== undefined) warn(ctx, path, 'uid/gid ignored: the file belongs to the container\'s user');
    const object = objectName(ref.source, spec);
    const volName = `${kind === 'secrets' ? 'secret' : 'config'}-${k8sName(ref.source)}`;
    const mode = ref.mode === undefined ? undefined : typeof ref.mode === 'number' ? ref.mode : parseInt(ref.mode, 8);
    const source: JsonMap = kind === 'secrets'
      ? { secretName: object, ...(mode !== undefined ? { defaultMode: mode } : {}) }
      : { name: object, ...(mode !== undefined ? { defaultMode: mode } : {}) };
    if (!out.volumes.some((v) => v.name === volName)) out.volumes.push({ name: volName, [kind === 'secrets' ? 'secret' : 'configMap']: source });
    const target = ref.target
      ? (ref.target.startsWith('/') ? ref.target : kind === 'secrets' ? `/run/secrets/${ref.target}` : `/${ref.target}`)
      : kind === 'secrets' ? `/run/secrets/${ref.source}` : `/${ref.source}`;
    out.mounts.push({ name: volName, mountPath: posix.normalize(target), subPath: ref.source, readOnly: true });
  });
}

function objectName(key: string, spec: TopFile): string {
  return k8sName(spec.external && spec.name ? spec.name : key);
}

/** The Secret/ConfigMap of each top-level secret or config some service uses (external ones are not created). */
export function fileObjects(ctx: TranslateContext, kind: 'secrets' | 'configs', used: Set<string>, namespace: string, labels: Record<string, string>): JsonMap[] {
  const top = (kind === 'secrets' ? ctx.project.model.secrets : ctx.project.model.configs) ?? {};
  const out: JsonMap[] = [];
  for (const [key, spec] of Object.entries(top)) {
    const path = `${kind}.${key}`;
    if (!used.has(key)) continue;
    if (spec.external !== undefined && truthy(spec.external)) continue;
    let content: string | undefined;
    if (spec.file !== undefined) {
      const abs = projectPath(ctx, spec.file);
      try {
        content = ctx.readFile(abs);
      } catch {
        refuse(ctx, `${path}.file`, `cannot read ${abs}`);
        continue;
      }
    } else if (spec.environment !== undefined) {
      content = ctx.project.env(spec.environment);
      if (content === undefined) {
        refuse(ctx, `${path}.environment`, `variable ${spec.environment} is not set (in the environment or .env)`);
        continue;
      }
    } else if (spec.content !== undefined) {
      content = spec.content;
    } else {
      refuse(ctx, path, 'needs file:, environment: or content: (or external: true for an object that exists)');
      continue;
    }
    const meta = { name: objectName(key, spec), namespace, labels, annotations: { [COMPOSE_KEY_ANNOTATION]: path } };
    if (kind === 'secrets') {
      out.push({ apiVersion: 'v1', kind: 'Secret', metadata: meta, type: 'Opaque', data: { [key]: Buffer.from(content, 'utf8').toString('base64') } });
    } else {
      out.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta, data: { [key]: content } });
    }
  }
  return out;
}

/** A PersistentVolumeClaim per used top-level volume (external ones must exist already). */
export function claimObjects(ctx: TranslateContext, used: Set<string>, namespace: string, labels: Record<string, string>): JsonMap[] {
  const out: JsonMap[] = [];
  for (const [key, spec] of Object.entries(ctx.project.model.volumes ?? {})) {
    if (!used.has(key)) continue;
    const path = `volumes.${key}`;
    if (spec?.external !== undefined && truthy(spec.external)) continue;
    if (spec?.driver && spec.driver !== 'local') warn(ctx, `${path}.driver`, `ignored: the claim gets the cluster's default storage`);
    const size = spec?.driver_opts?.size ?? DEFAULT_VOLUME_SIZE;
    out.push({
      apiVersion: 'v1', kind: 'PersistentVolumeClaim',
      metadata: { name: claimName(key, spec), namespace, labels, annotations: { [COMPOSE_KEY_ANNOTATION]: path } },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
    });
  }
  return out;
}
