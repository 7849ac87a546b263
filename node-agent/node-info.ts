// What the agent says about its machine in the Node object: capacity, labels, addresses,
// the agent's own endpoint and versions, and the Ready and DiskPressure conditions (node-health.ts).
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { arch, cpus, hostname, networkInterfaces, platform, release, totalmem } from 'node:os';
import type { Condition } from '../proto/gen/skiff/v1/meta.js';
import { Node, NodeStatus } from '../proto/gen/skiff/v1/core.js';
import type { NodeHealth } from './node-health.js';

export const AGENT_VERSION = 'skiff-node-agent/0.1.0';

export interface NodeIdentity {
  nodeName: string;
  podCIDR: string;
  labels: Record<string, string>;
  nodeIP: string;
  agentPort: number;
  runtimeVersion: string;
  /** Override of the machine's capacity (simulated nodes). */
  capacity?: Record<string, string>;
}

/** The first non-loopback IPv4 address, or 127.0.0.1 on a machine with none. */
export function defaultNodeIP(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/**
 * The IP of a host:port listen address ("10.0.0.5:10250", "[fd00::5]:10250") when it names one
 * address; undefined for a wildcard (0.0.0.0, ::), a host name, a unix socket or "".
 */
export function listenIP(listen: string | undefined): string | undefined {
  if (!listen) return undefined;
  let host: string;
  if (listen.startsWith('[')) {
    const end = listen.indexOf(']');
    if (end < 0) return undefined;
    host = listen.slice(1, end);
  } else {
    const i = listen.lastIndexOf(':');
    host = i >= 0 ? listen.slice(0, i) : listen;
  }
  if (!isIP(host)) return undefined;
  const unspecified = isIP(host) === 4 ? /^0+(\.0+){3}$/.test(host) : /^[0:]+$/.test(host);
  return unspecified ? undefined : host;
}

/**
 * The Node's InternalIP. The control plane reaches the agent there, on
 * status.daemonEndpoints.kubeletEndpoint.Port (as the API server reaches a kubelet), and pods
 * report it as status.hostIP. An explicit --node-ip wins; else the IP the agent listens on when
 * it listens on one (an agent on 127.0.0.1 can be reached nowhere else); else the machine's
 * first non-loopback IPv4.
 */
export function chooseNodeIP(explicit: string | undefined, listen: string | undefined, fallback: () => string = defaultNodeIP): string {
  return explicit || listenIP(listen) || fallback();
}

function goArch(): string {
  const a = arch();
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}

export function machineCapacity(): Record<string, string> {
  return { cpu: String(cpus().length), memory: `${Math.floor(totalmem() / 1024)}Ki`, pods: '110' };
}

function osImage(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return m?.[1] ?? platform();
  } catch {
    return platform();
  }
}

function machineID(): string {
  try {
    return readFileSync('/etc/machine-id', 'utf8').trim();
  } catch {
    return '';
  }
}

export function nodeLabels(id: NodeIdentity): Record<string, string> {
  return {
    ...id.labels,
    'kubernetes.io/hostname': id.nodeName,
    'kubernetes.io/os': platform(),
    'kubernetes.io/arch': goArch(),
  };
}

function condition(prev: Condition[], type: string, status: 'True' | 'False', reason: string, message: string, now: string): Condition {
  const old = prev.find((c) => c.type === type);
  return {
    type,
    status,
    reason,
    message,
    lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now,
    lastHeartbeatTime: now,
    lastUpdateTime: '',
    lastProbeTime: '',
  };
}

export function readyCondition(prev: Condition[], health: NodeHealth, now: string): Condition {
  return condition(prev, 'Ready', health.ready ? 'True' : 'False', health.reason, health.message, now);
}

/** The kubelet's DiskPressure condition (reasons KubeletHasDiskPressure / KubeletHasNoDiskPressure). */
export function diskPressureCondition(prev: Condition[], health: NodeHealth, now: string): Condition {
  return health.diskPressure
    ? condition(prev, 'DiskPressure', 'True', 'KubeletHasDiskPressure', health.diskMessage, now)
    : condition(prev, 'DiskPressure', 'False', 'KubeletHasNoDiskPressure', health.diskMessage, now);
}

export function nodeStatus(id: NodeIdentity, prev: NodeStatus | undefined, now: string, health: NodeHealth): NodeStatus {
  const capacity = id.capacity ?? machineCapacity();
  const conds = prev?.conditions ?? [];
  const others = conds.filter((c) => c.type !== 'Ready' && c.type !== 'DiskPressure');
  return NodeStatus.fromPartial({
    capacity,
    allocatable: { ...capacity },
    conditions: [...others, readyCondition(conds, health, now), diskPressureCondition(conds, health, now)],
    addresses: [
      { type: 'InternalIP', address: id.nodeIP },
      { type: 'Hostname', address: hostname() },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: id.agentPort } },
    nodeInfo: {
      machineID: machineID(),
      kernelVersion: release(),
      osImage: osImage(),
      containerRuntimeVersion: id.runtimeVersion,
      kubeletVersion: AGENT_VERSION,
      operatingSystem: platform(),
      architecture: goArch(),
    },
  });
}

/** Whether the conditions stored in the Node say what health says (else the agent posts again). */
export function conditionsMatch(stored: readonly Condition[] | undefined, health: NodeHealth): boolean {
  const ready = stored?.find((c) => c.type === 'Ready');
  const disk = stored?.find((c) => c.type === 'DiskPressure');
  return ready?.status === (health.ready ? 'True' : 'False') && ready.message === health.message && disk?.status === (health.diskPressure ? 'True' : 'False');
}

export function newNode(id: NodeIdentity, now: string, health: NodeHealth): Node {
  return Node.fromPartial({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: id.nodeName, labels: nodeLabels(id) },
    spec: { podCIDR: id.podCIDR, podCIDRs: id.podCIDR ? [id.podCIDR] : [] },
    status: nodeStatus(id, undefined, now, health),
  });
}
