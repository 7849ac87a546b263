// `skiff top`: kubectl top's tables from PodMetrics and NodeMetrics. CPU in millicores ("250m"),
// memory in MiB ("64Mi"), percentages of the node's allocatable (capacity when none), as
// kubectl prints them.
import { parseQuantity } from '../quantity.js';
import type { Node } from '../../gen/skiff/v1/core.js';
import type { NodeMetrics, PodMetrics } from '../../gen/skiff/v1/metrics.js';
import type { Table } from './row.js';

/** A quantity's value in base units (cores, bytes); 0 when absent or malformed. */
export function quantityValue(q: string | undefined): number {
  if (!q) return 0;
  try {
    return parseQuantity(q).value;
  } catch {
    return 0;
  }
}

export function formatCpu(cores: number): string {
  return `${Math.round(cores * 1000)}m`;
}

export function formatMemory(bytes: number): string {
  return `${Math.floor(bytes / (1024 * 1024))}Mi`;
}

export function podUsage(m: PodMetrics): { cpuCores: number; memoryBytes: number } {
  let cpuCores = 0;
  let memoryBytes = 0;
  for (const c of m.containers) {
    cpuCores += quantityValue(c.usage.cpu);
    memoryBytes += quantityValue(c.usage.memory);
  }
  return { cpuCores, memoryBytes };
}

export function topNodesTable(metrics: readonly NodeMetrics[], nodes: readonly Node[]): Table {
  const byName = new Map(nodes.map((n) => [n.metadata?.name ?? '', n]));
  const rows = [...metrics].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '')).map((m) => {
    const node = byName.get(m.metadata?.name ?? '');
    const alloc = (r: string): number => quantityValue(node?.status?.allocatable[r] || node?.status?.capacity[r]);
    const cpu = quantityValue(m.usage.cpu);
    const mem = quantityValue(m.usage.memory);
    const pct = (used: number, total: number): string => (total > 0 ? `${Math.floor((used / total) * 100)}%` : '<unknown>');
    return [m.metadata?.name ?? '', formatCpu(cpu), pct(cpu, alloc('cpu')), formatMemory(mem), pct(mem, alloc('memory'))];
  });
  return { headers: ['NAME', 'CPU(cores)', 'CPU%', 'MEMORY(bytes)', 'MEMORY%'], rows };
}

export function topPodsTable(metrics: readonly PodMetrics[], opts: { withNamespace: boolean; containers: boolean }): Table {
  const sorted = [...metrics].sort((a, b) =>
    `${a.metadata?.namespace ?? ''}/${a.metadata?.name ?? ''}`.localeCompare(`${b.metadata?.namespace ?? ''}/${b.metadata?.name ?? ''}`));
  const ns = (m: PodMetrics): string[] => (opts.withNamespace ? [m.metadata?.namespace ?? ''] : []);
  if (opts.containers) {
    return {
      headers: [...(opts.withNamespace ? ['NAMESPACE'] : []), 'POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)'],
      rows: sorted.flatMap((m) => m.containers.map((c) => [
        ...ns(m), m.metadata?.name ?? '', c.name, formatCpu(quantityValue(c.usage.cpu)), formatMemory(quantityValue(c.usage.memory)),
      ])),
    };
  }
  return {
    headers: [...(opts.withNamespace ? ['NAMESPACE'] : []), 'NAME', 'CPU(cores)', 'MEMORY(bytes)'],
    rows: sorted.map((m) => {
      const u = podUsage(m);
      return [...ns(m), m.metadata?.name ?? '', formatCpu(u.cpuCores), formatMemory(u.memoryBytes)];
    }),
  };
}
