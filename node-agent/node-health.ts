// The node's health as its Node conditions say it, the kubelet's way: Ready is False with a
// reason when the container runtime does not answer or reports RuntimeReady/NetworkReady false,
// or when the pod network is not set up (no pod CIDR yet); DiskPressure is True when the
// filesystem under the agent's state dir has less free space than --eviction-hard-nodefs-available.
// assess() is pure over a probe's findings; probeHealth() is the edge that asks the runtime
// and statfs. The node lifecycle controller turns these conditions into taints
// (node.kubernetes.io/not-ready, node.kubernetes.io/disk-pressure) that keep pods away.
import { statfs } from 'node:fs/promises';
import { parseQuantity, toBytes } from '../proto/api/quantity.js';
import type { Runtime, RuntimeCondition } from './runtime/runtime.js';

/** --eviction-hard-nodefs-available: a share of the filesystem ("10%") or bytes ("1Gi"). */
export type DiskThreshold = { percent: number } | { bytes: number };

export const DEFAULT_NODEFS_AVAILABLE = '10%';

export function parseDiskThreshold(text: string): DiskThreshold {
  const t = text.trim();
  if (t.endsWith('%')) {
    const percent = Number(t.slice(0, -1));
    if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
      throw new RangeError(`--eviction-hard-nodefs-available ${text}: a percentage must be between 0% and 100%`);
    }
    return { percent };
  }
  try {
    return { bytes: toBytes(parseQuantity(t)) };
  } catch (e) {
    throw new RangeError(`--eviction-hard-nodefs-available ${text}: use a percentage (10%) or a quantity (1Gi): ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** What one probe found; each part is either the answer or why there is none. */
export interface HealthFindings {
  podCIDR: string;
  runtime: { conditions: RuntimeCondition[] } | { error: string };
  disk: { availableBytes: number; totalBytes: number } | { error: string };
  threshold: DiskThreshold;
}

export interface NodeHealth {
  ready: boolean;
  /** KubeletReady / KubeletNotReady, as the kubelet's Ready condition. */
  reason: string;
  message: string;
  diskPressure: boolean;
  diskMessage: string;
}

function minAvailable(totalBytes: number, t: DiskThreshold): number {
  return 'percent' in t ? (totalBytes * t.percent) / 100 : t.bytes;
}

const gib = (b: number): string => `${(b / 1024 ** 3).toFixed(2)} GiB`;

export function assess(f: HealthFindings): NodeHealth {
  const problems: string[] = [];
  if ('error' in f.runtime) {
    problems.push(`container runtime is down: ${f.runtime.error}`);
  } else {
    // CRI: both must be present and true; a runtime that omits one is not ready (kubelet rule).
    for (const type of ['RuntimeReady', 'NetworkReady']) {
      const c = f.runtime.conditions.find((x) => x.type === type);
      if (!c) problems.push(`container runtime status check: ${type} missing`);
      else if (!c.status) {
        const why = [c.reason, c.message].filter(Boolean).join(': ');
        problems.push(type === 'NetworkReady' ? `container runtime network not ready: ${why}` : `container runtime not ready: ${why}`);
      }
    }
  }
  if (!f.podCIDR) problems.push("network not ready: waiting for this node's pod CIDR (spec.podCIDR) from the control plane");
  let diskPressure = false;
  let diskMessage = 'node has sufficient disk space available';
  if ('error' in f.disk) {
    // Unknown free space is not pressure: the kubelet's eviction manager skips a failed stat.
    diskMessage = `disk space unknown: ${f.disk.error}`;
  } else {
    const need = minAvailable(f.disk.totalBytes, f.threshold);
    if (f.disk.availableBytes < need) {
      diskPressure = true;
      diskMessage = `node has disk pressure: ${gib(f.disk.availableBytes)} available of ${gib(f.disk.totalBytes)}, below the hard eviction threshold of ${gib(need)}`;
    }
  }
  const ready = problems.length === 0;
  return {
    ready,
    reason: ready ? 'KubeletReady' : 'KubeletNotReady',
    message: ready ? 'skiff node agent is posting ready status' : problems.join('; '),
    diskPressure,
    diskMessage,
  };
}

export function sameHealth(a: NodeHealth | undefined, b: NodeHealth): boolean {
  return !!a && a.ready === b.ready && a.diskPressure === b.diskPressure && a.message === b.message;
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Asks the runtime for its status (bounded by timeoutMs) and statfs for the state dir's filesystem. */
export async function probeHealth(runtime: Runtime, stateDir: string, podCIDR: string, threshold: DiskThreshold, timeoutMs = 5000): Promise<HealthFindings> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  const [rt, disk] = await Promise.all([
    Promise.race([runtime.status(), timeout]).then(
      (conditions) => ({ conditions }),
      (e: unknown) => ({ error: errText(e) }),
    ),
    statfs(stateDir).then(
      (s) => ({ availableBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize }),
      (e: unknown) => ({ error: errText(e) }),
    ),
  ]);
  clearTimeout(timer);
  return { podCIDR, runtime: rt, disk, threshold };
}
