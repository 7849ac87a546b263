// The feasibility checks, in pipeline order. Each returns the reasons a node cannot take the
// pod (empty: it can). A node is rejected by the first check that fails, as in Kubernetes'
// filter plugins, except that the resource check lists every resource that is short.
import type { Node, Pod, Taint, Toleration } from '../../../proto/gen/skiff/v1/core.js';
import { podHostPorts, portsConflict, type HostPort, type NodeInfo } from './nodeinfo.js';
import type { Resources } from './resources.js';
import { volumeReason, type PodVolumes } from './volumes.js';

export interface FilterInput {
  pod: Pod;
  req: Resources;
  info: NodeInfo;
  /** Of the pod, worked out once for all the nodes it is tried on (podFacts). */
  facts: PodFacts;
}

export interface PodFacts {
  hostPorts: HostPort[];
  nodeSelector: [string, string][];
  /** What the pod's persistentVolumeClaim volumes ask of a node (volumes.ts). */
  volumes: PodVolumes;
}

const NO_VOLUMES: PodVolumes = Object.freeze({ kind: 'free' });

export function podFacts(pod: Pod, volumes: PodVolumes = NO_VOLUMES): PodFacts {
  return { hostPorts: podHostPorts(pod), nodeSelector: Object.entries(pod.spec?.nodeSelector ?? {}), volumes };
}

// Shared by every passing check: a node is tried for every pending pod, so no allocation.
const PASS: readonly string[] = Object.freeze([]);

export interface Filter {
  name: string;
  check(input: FilterInput): readonly string[];
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
    check: ({ info }) => (info.ready ? PASS : [REASON.notReady]),
  },
  {
    name: 'NodeUnschedulable',
    check: ({ info }) => (info.node.spec?.unschedulable ? [REASON.unschedulable] : PASS),
  },
  {
    name: 'NodeAllocatable',
    check: ({ info }) => (info.invalid ? [REASON.invalidNode] : PASS),
  },
  {
    name: 'NodeSelector',
    check: ({ facts, info }) => {
      const labels = info.node.metadata?.labels ?? {};
      return facts.nodeSelector.every(([k, v]) => labels[k] === v) ? PASS : [REASON.nodeSelector];
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
      return bad ? [REASON.taint(bad)] : PASS;
    },
  },
  {
    name: 'NodePorts',
    check: ({ facts, info }) =>
      facts.hostPorts.some((w) => info.ports.some((used) => portsConflict(w, used))) ? [REASON.ports] : PASS,
  },
  {
    name: 'NodeResourcesFit',
    check: ({ req, info }) => {
      const { allocatable: a, requested: r } = info;
      const cpu = req.cpuMillis > 0 && r.cpuMillis + req.cpuMillis > a.cpuMillis;
      const memory = req.memoryBytes > 0 && r.memoryBytes + req.memoryBytes > a.memoryBytes;
      const pods = r.pods + req.pods > a.pods;
      if (!cpu && !memory && !pods) return PASS;
      const out: string[] = [];
      if (cpu) out.push(REASON.cpu);
      if (memory) out.push(REASON.memory);
      if (pods) out.push(REASON.pods);
      return out;
    },
  },
  {
    name: 'VolumeBinding',
    check: ({ facts, info }) => {
      const why = volumeReason(facts.volumes, info.node);
      return why ? [why] : PASS;
    },
  },
];

/** The reasons the node rejects the pod, from the first failing filter; [] when it fits. */
export function runFilters(input: FilterInput): { stage: number; reasons: readonly string[] } {
  for (let i = 0; i < FILTERS.length; i++) {
    const reasons = FILTERS[i]!.check(input);
    if (reasons.length) return { stage: i, reasons };
  }
  return FITS;
}

const FITS = Object.freeze({ stage: -1, reasons: PASS });
