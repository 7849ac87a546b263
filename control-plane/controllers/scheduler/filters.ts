// The feasibility checks, in pipeline order. Each returns the reasons a node cannot take the
// pod (empty: it can). A node is rejected by the first check that fails, as in Kubernetes'
// filter plugins, except that the resource check lists every resource that is short.
import type { Node, Pod, Taint, Toleration } from '../../../proto/gen/skiff/v1/core.js';
import { podHostPorts, portsConflict, type NodeInfo } from './nodeinfo.js';
import type { Resources } from './resources.js';

export interface FilterInput {
  pod: Pod;
  req: Resources;
  info: NodeInfo;
}

export interface Filter {
  name: string;
  check(input: FilterInput): string[];
}

export const REASON = {
  notReady: 'node(s) were NotReady',
  unschedulable: 'node(s) were unschedulable',
  invalidNode: 'node(s) had invalid allocatable resources',
  nodeSelector: "node(s) didn't match nodeSelector",
  ports: "node(s) didn't have free ports for the requested pod ports",
  cpu: 'Insufficient cpu',
  memory: 'Insufficient memory',
  pods: 'Too many pods',
  taint: (t: Taint): string => `node(s) had untolerated taint {${t.key}: ${t.value}}`,
} as const;

export function nodeReady(node: Node): boolean {
  return node.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Kubernetes' toleration matching: empty key with Exists tolerates every taint. */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && t.value === taint.value;
}

export const FILTERS: readonly Filter[] = [
  {
    name: 'NodeReady',
    check: ({ info }) => (nodeReady(info.node) ? [] : [REASON.notReady]),
  },
  {
    name: 'NodeUnschedulable',
    check: ({ info }) => (info.node.spec?.unschedulable ? [REASON.unschedulable] : []),
  },
  {
    name: 'NodeAllocatable',
    check: ({ info }) => (info.invalid ? [REASON.invalidNode] : []),
  },
  {
    name: 'NodeSelector',
    check: ({ pod, info }) => {
      const labels = info.node.metadata?.labels ?? {};
      const sel = pod.spec?.nodeSelector ?? {};
      return Object.entries(sel).every(([k, v]) => labels[k] === v) ? [] : [REASON.nodeSelector];
    },
  },
  {
    name: 'TaintToleration',
    check: ({ pod, info }) => {
      const tolerations = pod.spec?.tolerations ?? [];
      const bad = (info.node.spec?.taints ?? []).find(
        (taint) =>
          (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerations.some((t) => tolerates(t, taint)),
      );
      return bad ? [REASON.taint(bad)] : [];
    },
  },
  {
    name: 'NodePorts',
    check: ({ pod, info }) => {
      const wanted = podHostPorts(pod);
      return wanted.some((w) => info.ports.some((used) => portsConflict(w, used))) ? [REASON.ports] : [];
    },
  },
  {
    name: 'NodeResourcesFit',
    check: ({ req, info }) => {
      const out: string[] = [];
      const { allocatable: a, requested: r } = info;
      if (req.cpuMillis > 0 && r.cpuMillis + req.cpuMillis > a.cpuMillis) out.push(REASON.cpu);
      if (req.memoryBytes > 0 && r.memoryBytes + req.memoryBytes > a.memoryBytes) out.push(REASON.memory);
      if (r.pods + req.pods > a.pods) out.push(REASON.pods);
      return out;
    },
  },
];

/** The reasons the node rejects the pod, from the first failing filter; [] when it fits. */
export function runFilters(input: FilterInput): { stage: number; reasons: string[] } {
  for (let i = 0; i < FILTERS.length; i++) {
    const reasons = FILTERS[i]!.check(input);
    if (reasons.length) return { stage: i, reasons };
  }
  return { stage: -1, reasons: [] };
}
