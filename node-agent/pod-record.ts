// The small JSON the agent keeps per pod under <state>/pods/<uid>/record.json: the runtime
// handles it made and each container's restart history, so a restarted agent re-attaches to
// the same sandbox and containers instead of making new ones.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerStateTerminated } from '../proto/gen/skiff/v1/core.js';
import type { ContainerHandle, SandboxConfig, SandboxHandle } from './runtime/runtime.js';

export interface ContainerRecord {
  handle?: ContainerHandle;
  /** The exited attempt before handle (kept for its logs). */
  previous?: ContainerHandle;
  restartCount: number;
  lastTerminated?: ContainerStateTerminated;
}

export interface PodRecord {
  version: 1;
  uid: string;
  namespace: string;
  name: string;
  startTime: string;
  sandbox?: SandboxHandle;
  sandboxConfig?: SandboxConfig;
  containers: Record<string, ContainerRecord>;
}

export const RECORD_FILE = 'record.json';

/** dirMade: the caller knows podDir exists (saves a mkdir per write). */
export async function saveRecord(podDir: string, r: PodRecord, dirMade = false): Promise<void> {
  if (!dirMade) await mkdir(podDir, { recursive: true });
  const tmp = join(podDir, `${RECORD_FILE}.tmp`);
  await writeFile(tmp, JSON.stringify(r));
  await rename(tmp, join(podDir, RECORD_FILE));
}

/** Every readable record under <state>/pods; unreadable ones are skipped (logged by the caller). */
export async function loadRecords(stateDir: string): Promise<{ records: PodRecord[]; bad: string[] }> {
  const dir = join(stateDir, 'pods');
  let uids: string[];
  try {
    uids = await readdir(dir);
  } catch {
    return { records: [], bad: [] };
  }
  const records: PodRecord[] = [];
  const bad: string[] = [];
  for (const uid of uids) {
    try {
      const r = JSON.parse(await readFile(join(dir, uid, RECORD_FILE), 'utf8')) as PodRecord;
      if (r.version === 1 && r.uid === uid) records.push(r);
      else bad.push(uid);
    } catch {
      bad.push(uid);
    }
  }
  return { records, bad };
}
