// The host directory behind a pod's persistentVolumeClaim volume: claim -> bound volume ->
// its local or hostPath directory, checked to be meant for this node. Read live from the
// control plane when a container starts (a pod is only bound to a node once its claims are).
import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { isApiError } from '../../proto/api/errors.js';
import { HOSTNAME_LABEL, pinnedNode, volumePath } from '../../proto/api/storage.js';
import type { Pod, PersistentVolumeClaimVolumeSource } from '../../proto/gen/skiff/v1/core.js';
import { RuntimeError } from '../runtime/runtime.js';
import type { AgentApi } from '../api-client.js';

function configError(message: string): RuntimeError {
  return new RuntimeError('CreateContainerConfigError', message);
}

/** Throws CreateContainerConfigError (retried by the pod worker) while the claim is not usable here. */
export async function claimHostPath(api: AgentApi, nodeName: string, pod: Pod, src: PersistentVolumeClaimVolumeSource): Promise<string> {
  const ns = pod.metadata?.namespace ?? '';
  const name = src.claimName;
  const claim = await api.get('PersistentVolumeClaim', ns, name).catch((e: unknown) => {
    if (isApiError(e, 'NotFound')) throw configError(`persistentvolumeclaim "${name}" not found`);
    throw e;
  });
  const volumeName = claim.spec?.volumeName ?? '';
  if (!volumeName || claim.status?.phase !== 'Bound') throw configError(`persistentvolumeclaim "${name}" is not bound`);
  const pv = await api.get('PersistentVolume', '', volumeName).catch((e: unknown) => {
    if (isApiError(e, 'NotFound')) throw configError(`persistentvolume "${volumeName}" of claim "${name}" not found`);
    throw e;
  });
  const pinned = pinnedNode(pv);
  if (pinned !== undefined && pinned !== nodeName) {
    throw configError(`persistentvolume "${volumeName}" is on node "${pinned}" (${HOSTNAME_LABEL}), not this node "${nodeName}"`);
  }
  const dir = volumePath(pv);
  if (!dir) throw configError(`persistentvolume "${volumeName}" has no local or hostPath directory`);
  if (pv.spec?.hostPath?.type === 'DirectoryOrCreate') await mkdir(dir, { recursive: true });
  else if (!(existsSync(dir) && statSync(dir).isDirectory())) throw configError(`persistentvolume "${volumeName}": ${dir} is not a directory on this node`);
  return dir;
}
