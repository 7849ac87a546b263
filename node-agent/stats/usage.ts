// Turning two cumulative readings into usage, as metrics-server does with the kubelet's
// figures: CPU is (usageCoreNanoSeconds now - before) / (time now - before), in nanocores;
// memory is the newer working set. A pure step over two snapshots, so it is tested exactly.
import type { NodeStats, PodUsage } from '../../proto/gen/skiff/v1/agent.js';
import type { ContainerStatsSample } from '../runtime/runtime.js';

/** A running container of one of the node's pods, as the agent knows it. */
export interface PodContainer {
  namespace: string;
  pod: string;
  uid: string;
  container: string;
  containerId: string;
}

/**
 * NodeStats from the previous and current readings. A container needs both readings (a new
 * container appears at the next sample, as in metrics-server); a counter that went backwards
 * (the container was replaced under the same id) or a zero window gives no figure.
 */
export function computeUsage(nodeName: string, previous: ContainerStatsSample[], current: ContainerStatsSample[], containers: PodContainer[], nowMs: number): NodeStats {
  const before = new Map(previous.map((s) => [s.containerId, s]));
  const now = new Map(current.map((s) => [s.containerId, s]));
  const pods = new Map<string, PodUsage>();
  let cpu = 0;
  let memory = 0;
  let window = 0;
  let newest = 0;
  for (const c of containers) {
    const a = before.get(c.containerId);
    const b = now.get(c.containerId);
    if (!a || !b) continue;
    const dtMs = b.timestampMs - a.timestampMs;
    const dCpu = b.cpuUsageCoreNanoSeconds - a.cpuUsageCoreNanoSeconds;
    if (dtMs <= 0 || dCpu < 0) continue;
    const nanoCores = Math.round(dCpu / (dtMs / 1000));
    window = Math.max(window, dtMs / 1000);
    newest = Math.max(newest, b.timestampMs);
    const key = `${c.namespace}/${c.pod}`;
    let p = pods.get(key);
    if (!p) {
      p = { namespace: c.namespace, name: c.pod, uid: c.uid, containers: [] };
      pods.set(key, p);
    }
    p.containers.push({ name: c.container, cpuNanoCores: nanoCores, memoryWorkingSetBytes: b.memoryWorkingSetBytes });
    cpu += nanoCores;
    memory += b.memoryWorkingSetBytes;
  }
  return {
    nodeName,
    timestamp: new Date(newest || nowMs).toISOString(),
    windowSeconds: window,
    cpuNanoCores: cpu,
    memoryWorkingSetBytes: memory,
    pods: [...pods.values()],
  };
}
