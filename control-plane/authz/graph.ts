// The node authorizer's graph (Kubernetes' node_authorizer graph), kept from the Pod informer:
// for each node, how many of its pods reference each Secret, ConfigMap and claim. A check is
// then a map lookup, never a scan of all pods. A claim's volume is reached through the claim
// (PersistentVolumeClaim informer), a pod's node through the Pod informer.
import { pinnedNode } from '../../proto/api/storage.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import type { SharedInformers } from '../informers.js';
import { podRefs, refKey } from './pod-refs.js';

/** What the node authorizer asks of the cluster's state. */
export interface NodeGraphView {
  /** The node a pod is bound to ("" unbound), undefined when the pod does not exist. */
  podNode(namespace: string, name: string): string | undefined;
  /** Whether a pod bound to node references the object (for PersistentVolumes: through a claim). */
  nodeUses(node: string, kind: 'Secret' | 'ConfigMap' | 'PersistentVolumeClaim' | 'PersistentVolume', namespace: string, name: string): boolean;
  /** The node a local PersistentVolume is pinned to by its node affinity, or undefined. */
  volumeNode(name: string): string | undefined;
}

/** Reference counts per node, maintained from pod add/update/delete events (pure, testable). */
export class NodeRefCounts {
  private readonly byNode = new Map<string, Map<string, number>>();
  private readonly byPod = new Map<string, { node: string; refs: string[] }>();

  set(podKey: string, pod: Pod | undefined): void {
    const before = this.byPod.get(podKey);
    if (before) this.change(before.node, before.refs, -1);
    this.byPod.delete(podKey);
    const node = pod?.spec?.nodeName ?? '';
    if (!pod || !node) return;
    const refs = podRefs(pod);
    this.byPod.set(podKey, { node, refs });
    this.change(node, refs, 1);
  }

  uses(node: string, key: string): boolean {
    return (this.byNode.get(node)?.get(key) ?? 0) > 0;
  }

  /** The references of a node's pods of one kind (claims, to reach their volumes). */
  refsOf(node: string, prefix: string): string[] {
    return [...(this.byNode.get(node)?.keys() ?? [])].filter((k) => k.startsWith(prefix));
  }

  private change(node: string, refs: readonly string[], by: number): void {
    let m = this.byNode.get(node);
    if (!m) {
      m = new Map();
      this.byNode.set(node, m);
    }
    for (const r of refs) {
      const n = (m.get(r) ?? 0) + by;
      if (n > 0) m.set(r, n);
      else m.delete(r);
    }
    if (m.size === 0) this.byNode.delete(node);
  }
}

export class NodeGraph implements NodeGraphView {
  private readonly counts = new NodeRefCounts();
  private readonly removers: (() => void)[] = [];

  constructor(private readonly informers: SharedInformers) {}

  /** Starts the informers it reads and follows pod changes. */
  async start(): Promise<void> {
    const pods = this.informers.get('Pod');
    const key = (p: Pod): string => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
    this.removers.push(pods.addHandlers({
      onAdd: (p) => this.counts.set(key(p), p),
      onUpdate: (_old, p) => this.counts.set(key(p), p),
      onDelete: (p) => this.counts.set(key(p), undefined),
    }));
    await this.informers.start(['Pod', 'PersistentVolumeClaim', 'PersistentVolume']);
  }

  stop(): void {
    for (const r of this.removers.splice(0)) r();
  }

  podNode(namespace: string, name: string): string | undefined {
    const p = this.informers.get('Pod').get(`${namespace}/${name}`);
    return p ? (p.spec?.nodeName ?? '') : undefined;
  }

  nodeUses(node: string, kind: 'Secret' | 'ConfigMap' | 'PersistentVolumeClaim' | 'PersistentVolume', namespace: string, name: string): boolean {
    if (kind !== 'PersistentVolume') return this.counts.uses(node, refKey(kind, namespace, name));
    const claims = this.informers.get('PersistentVolumeClaim');
    return this.counts.refsOf(node, 'PersistentVolumeClaim/').some((k) => {
      const [, ns = '', claim = ''] = k.split('/');
      return claims.get(`${ns}/${claim}`)?.spec?.volumeName === name;
    });
  }

  volumeNode(name: string): string | undefined {
    const pv = this.informers.get('PersistentVolume').get(name);
    return pv ? pinnedNode(pv) : undefined;
  }
}
