// What the bound pods take on each node, kept up to date from the Pod informer's events (as
// kube-scheduler's cache does) instead of summed again over every pod in the cluster on each
// scheduling batch: the density profile had that sum (buildNodeInfos) as the control plane's
// largest single cost. A batch copies the few per-node totals (nodeInfosFromLoads); the result
// equals buildNodeInfos over the same pods (node-loads.test.ts checks it).
import type { Node, Pod } from '../../../proto/gen/skiff/v1/core.js';
import { controllerUid, newNodeInfo, occupiesNode, podHostPorts, scoreRequests, type HostPort, type NodeInfo } from './nodeinfo.js';
import { add, podRequests, ZERO, type Resources } from './resources.js';

export interface NodeLoad {
  requested: Resources;
  scoreRequested: Resources;
  ports: HostPort[];
  /** Pods per controller owner uid. */
  owners: Map<string, number>;
}

interface Contribution {
  node: string;
  req: Resources;
  ports: HostPort[];
  owner: string;
  /** The pod mounts claims (ReadWriteOncePod holders). */
  pod?: Pod;
}

const sub = (a: Resources, b: Resources): Resources => ({
  cpuMillis: a.cpuMillis - b.cpuMillis, memoryBytes: a.memoryBytes - b.memoryBytes, pods: a.pods - b.pods,
});

/** What a pod takes from its node, or undefined when it takes nothing (unbound or finished). */
function contributionOf(p: Pod): Contribution | undefined {
  if (!occupiesNode(p)) return undefined;
  let req: Resources;
  try {
    req = podRequests(p);
  } catch {
    // Already running there: its slot and ports still count even if its requests are bad.
    req = { ...ZERO, pods: 1 };
  }
  const holdsClaims = p.spec?.volumes.some((v) => v.persistentVolumeClaim) ?? false;
  return { node: p.spec?.nodeName ?? '', req, ports: podHostPorts(p), owner: controllerUid(p), ...(holdsClaims ? { pod: p } : {}) };
}

export class NodeLoads {
  private readonly byPod = new Map<string, Contribution>();
  private readonly byNode = new Map<string, NodeLoad>();

  /** The pod stored under key is now `pod` (undefined: deleted). */
  set(key: string, pod: Pod | undefined): void {
    const old = this.byPod.get(key);
    if (old) this.remove(old);
    const next = pod ? contributionOf(pod) : undefined;
    if (next) {
      this.byPod.set(key, next);
      this.addTo(next);
    } else {
      this.byPod.delete(key);
    }
  }

  /** The load on a node (undefined: no pod there). Read-only: nodeInfosFromLoads copies it. */
  get(node: string): NodeLoad | undefined {
    return this.byNode.get(node);
  }

  /** Bound, unfinished pods that mount claims (for ReadWriteOncePod). */
  claimHolders(): Pod[] {
    const out: Pod[] = [];
    for (const c of this.byPod.values()) if (c.pod) out.push(c.pod);
    return out;
  }

  private addTo(c: Contribution): void {
    let l = this.byNode.get(c.node);
    if (!l) this.byNode.set(c.node, (l = { requested: ZERO, scoreRequested: ZERO, ports: [], owners: new Map() }));
    l.requested = add(l.requested, c.req);
    l.scoreRequested = add(l.scoreRequested, scoreRequests(c.req));
    l.ports.push(...c.ports);
    if (c.owner) l.owners.set(c.owner, (l.owners.get(c.owner) ?? 0) + 1);
  }

  private remove(c: Contribution): void {
    const l = this.byNode.get(c.node);
    if (!l) return;
    l.requested = sub(l.requested, c.req);
    l.scoreRequested = sub(l.scoreRequested, scoreRequests(c.req));
    for (const p of c.ports) {
      const i = l.ports.findIndex((x) => x.port === p.port && x.protocol === p.protocol && x.hostIP === p.hostIP);
      if (i >= 0) l.ports.splice(i, 1);
    }
    if (c.owner) {
      const n = (l.owners.get(c.owner) ?? 0) - 1;
      if (n > 0) l.owners.set(c.owner, n);
      else l.owners.delete(c.owner);
    }
    if (l.requested.pods <= 0 && l.ports.length === 0 && l.owners.size === 0) this.byNode.delete(c.node);
  }
}

/** NodeInfos for the nodes with the loads kept by NodeLoads: what buildNodeInfos gives, without a pass over the pods. */
export function nodeInfosFromLoads(nodes: readonly Node[], loads: Pick<NodeLoads, 'get'>): Map<string, NodeInfo> {
  const infos = new Map<string, NodeInfo>();
  for (const n of nodes) {
    const info = newNodeInfo(n);
    const l = loads.get(info.name);
    if (l) {
      // Copies: the batch's assume() adds to its NodeInfos.
      info.requested = l.requested;
      info.scoreRequested = l.scoreRequested;
      info.ports = [...l.ports];
      info.owners = new Map(l.owners);
    }
    infos.set(info.name, info);
  }
  return infos;
}
