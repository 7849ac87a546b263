// Which local-path directories this node must have and which it must remove, from the list of
// PersistentVolumes (pure). Only volumes the local-path provisioner made for this node, at
// <dir>/<volume name>, are ever touched: a path anywhere else is left alone even if a volume
// names it, so no manifest can make the agent delete a directory of its choosing.
import { join } from 'node:path';
import type { PersistentVolume } from '../../../proto/gen/skiff/v1/storage.js';
import { LOCAL_PATH_FINALIZER, LOCAL_PATH_PROVISIONER, pinnedNode, PROVISIONED_BY_ANNOTATION, volumePath } from '../../../proto/api/storage.js';

export interface LocalPathPlan {
  /** Directories of live volumes (created when missing). */
  ensure: string[];
  /** Deleted volumes whose data goes now, then the finalizer that held them. */
  remove: { volume: PersistentVolume; dir: string }[];
}

/** The directory of a volume this node's provisioner owns, or undefined. */
export function ownedDir(pv: PersistentVolume, nodeName: string, baseDir: string): string | undefined {
  const m = pv.metadata;
  if (!m || m.annotations[PROVISIONED_BY_ANNOTATION] !== LOCAL_PATH_PROVISIONER) return undefined;
  if (pinnedNode(pv) !== nodeName) return undefined;
  const dir = join(baseDir, m.name);
  if (!m.name || m.name.includes('/') || m.name === '.' || m.name === '..') return undefined;
  return volumePath(pv) === dir ? dir : undefined;
}

export function planLocalPath(volumes: readonly PersistentVolume[], nodeName: string, baseDir: string): LocalPathPlan {
  const out: LocalPathPlan = { ensure: [], remove: [] };
  for (const pv of volumes) {
    const dir = ownedDir(pv, nodeName, baseDir);
    if (!dir) continue;
    const m = pv.metadata!;
    if (!m.deletionTimestamp) {
      out.ensure.push(dir);
      continue;
    }
    // Only once the binder has let go (pv-protection gone): the last finalizer is ours.
    if (m.finalizers.length === 1 && m.finalizers[0] === LOCAL_PATH_FINALIZER) out.remove.push({ volume: pv, dir });
  }
  return out;
}
