// The scheduler's working view of one node: what it offers, what the pods bound to it already
// take (resources, host ports, pods per owner). Built once per batch from the read-only
// snapshot and updated as the batch binds pods, so one batch never overcommits a node.
import type { Node, Pod } from '../../../proto/gen/skiff/v1/core.js';
import { add, nodeAllocatable, podRequests, ZERO, type Resources } from './resources.js';

export interface HostPort {
  protocol: string;
  port: number;
  /** '' or 0.0.0.0 means every address of the node. */
  hostIP: string;
}

export interface NodeInfo {
  name: string;
  node: Node;
  allocatable: Resources;
  /** Set when the node reports quantities that do not parse; such a node takes no pods. */
  invalid: string;
  requested: Resources;
  /** Requests with Kubernetes' scoring defaults (100m, 200Mi) for pods that ask for nothing. */
  scoreRequested: Resources;
  ports: HostPort[];
  /** Pods per controller owner uid, for spreading. */
  owners: Map<string, number>;
  /** The node's Ready condition is True. */
  ready: boolean;
}

const SCORE_DEFAULT_CPU = 100;
const SCORE_DEFAULT_MEMORY = 200 * 2 ** 20;

/** The uid of the pod's controller (ReplicaSet), the unit the scheduler spreads. */
export function controllerUid(pod: Pod): string {
  return pod.metadata?.ownerReferences.find((r) => r.controller)?.uid ?? '';
}

/** Host ports a pod claims; a host-network pod claims its container ports on the node. */
export function podHostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports) {
      const port = p.hostPort || (pod.spec?.hostNetwork ? p.containerPort : 0);
      if (port > 0) out.push({ protocol: p.protocol || 'TCP', port, hostIP: p.hostIP });
    }
  }
  return out;
}

function wildcard(ip: string): boolean {
  return ip === '' || ip === '0.0.0.0' || ip === '::';
}

export function portsConflict(a: HostPort, b: HostPort): boolean {
  return a.port === b.port && a.protocol === b.protocol && (wildcard(a.hostIP) || wildcard(b.hostIP) || a.hostIP === b.hostIP);
}

export function scoreRequests(r: Resources): Resources {
  return { cpuMillis: r.cpuMillis || SCORE_DEFAULT_CPU, memoryBytes: r.memoryBytes || SCORE_DEFAULT_MEMORY, pods: r.pods };
}

/** Pods that hold a node's resources: bound and not finished. */
export function occupiesNode(pod: Pod): boolean {
  const phase = pod.status?.phase ?? '';
  return !!pod.spec?.nodeName && phase !== 'Succeeded' && phase !== 'Failed';
}

export function newNodeInfo(node: Node): NodeInfo {
  const name = node.metadata?.name ?? '';
  let allocatable = ZERO;
  let invalid = '';
  try {
    const st = node.status;
    const q = st && Object.keys(st.allocatable).length ? st.allocatable : (st?.capacity ?? {});
    allocatable = nodeAllocatable(q);
  } catch (e) {
    invalid = e instanceof Error ? e.message : String(e);
  }
  const ready = node.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  return { name, node, allocatable, invalid, requested: ZERO, scoreRequested: ZERO, ports: [], owners: new Map(), ready };
}

/** Accounts a pod on the node (an existing bound pod, or one this batch just placed). */
export function assume(info: NodeInfo, pod: Pod, req: Resources): void {
  info.requested = add(info.requested, req);
  info.scoreRequested = add(info.scoreRequested, scoreRequests(req));
  info.ports.push(...podHostPorts(pod));
  const owner = controllerUid(pod);
  if (owner) info.owners.set(owner, (info.owners.get(owner) ?? 0) + 1);
}

/** NodeInfos by node name for a snapshot; bound pods whose requests do not parse count as zero. */
export function buildNodeInfos(nodes: readonly Node[], pods: readonly Pod[]): Map<string, NodeInfo> {
  const infos = new Map<string, NodeInfo>();
  for (const n of nodes) {
    const info = newNodeInfo(n);
    infos.set(info.name, info);
  }
  for (const p of pods) {
    if (!occupiesNode(p)) continue;
    const info = infos.get(p.spec?.nodeName ?? '');
    if (!info) continue;
    let req: Resources;
    try {
      req = podRequests(p);
    } catch {
      // Already running there: its slot and ports still count even if its requests are bad.
      req = { ...ZERO, pods: 1 };
    }
    assume(info, p, req);
  }
  return infos;
}

/** Fraction of the node in use after adding req (0 = empty, 1 = full), cpu and memory averaged. */
export function allocatedFraction(info: NodeInfo, req: Resources): number {
  const s = scoreRequests(req);
  const frac = (used: number, cap: number): number => (cap > 0 ? Math.min(used / cap, 1) : 1);
  return (
    (frac(info.scoreRequested.cpuMillis + s.cpuMillis, info.allocatable.cpuMillis) +
      frac(info.scoreRequested.memoryBytes + s.memoryBytes, info.allocatable.memoryBytes)) /
    2
  );
}
