// Builders of nodes and pods for scheduler, node lifecycle and manager tests: just the fields they read.
import { Node, Pod, type Taint, type Toleration } from '../../../proto/gen/skiff/v1/core.js';

export interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: string;
  ready?: boolean;
  unschedulable?: boolean;
  labels?: Record<string, string>;
  taints?: Taint[];
}

export function node(name: string, o: NodeOpts = {}): Node {
  const allocatable: Record<string, string> = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110' };
  return Node.fromPartial({
    metadata: { name, labels: o.labels ?? {} },
    spec: { unschedulable: o.unschedulable ?? false, taints: o.taints ?? [] },
    status: {
      allocatable,
      capacity: allocatable,
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  });
}

export interface PodOpts {
  cpu?: string;
  memory?: string;
  nodeName?: string;
  owner?: string;
  hostPort?: number;
  protocol?: string;
  hostIP?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  phase?: string;
  created?: string;
}

export function pod(name: string, o: PodOpts = {}): Pod {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return Pod.fromPartial({
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      creationTimestamp: o.created ?? '2026-01-01T00:00:00Z',
      ownerReferences: o.owner
        ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner, uid: `rs-${o.owner}`, controller: true }]
        : [],
    },
    spec: {
      nodeName: o.nodeName ?? '',
      nodeSelector: o.nodeSelector ?? {},
      tolerations: o.tolerations ?? [],
      containers: [
        {
          name: 'app',
          image: 'busybox:1',
          resources: { requests },
          ports: o.hostPort
            ? [{ containerPort: 80, hostPort: o.hostPort, protocol: o.protocol ?? 'TCP', hostIP: o.hostIP ?? '' }]
            : [],
        },
      ],
    },
    status: { phase: o.phase ?? 'Pending' },
  });
}
