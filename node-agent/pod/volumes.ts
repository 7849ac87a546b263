// The pod's volumes on this node: set up before its containers start, torn down with the pod.
// Per-container mounts (volumeMounts -> host paths, hostPath checks, subPath) are built in
// ../pod-config.ts (containerMounts); this file holds what exists once per pod.
import { rm } from 'node:fs/promises';
import type { PodPaths } from '../pod-config.js';

/** Removes the pod's files on this node: its volumes, record and logs. */
export async function tearDownVolumes(paths: PodPaths): Promise<void> {
  await rm(paths.podDir, { recursive: true, force: true });
  await rm(paths.logDir, { recursive: true, force: true });
}
