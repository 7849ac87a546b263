// Names and small pure rules of persistent storage that the control plane (binding,
// scheduling) and the node agent (the local-path provisioner's directories) both need.
import type { Node } from '../gen/skiff/v1/core.js';
import type { NodeSelector, NodeSelectorRequirement, PersistentVolume } from '../gen/skiff/v1/storage.js';

/** The built-in provisioner: a directory on the node that runs the claim's first pod. */
export const LOCAL_PATH_PROVISIONER = 'skiff.io/local-path';
/** Kubernetes' name for "volumes are made by hand"; claims bind to existing PersistentVolumes. */
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';
export const DEFAULT_STORAGE_CLASS = 'local-path';
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
/** Set on a claim by the scheduler: the node its first pod goes to (Kubernetes' name). */
export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
/** Set on a volume by whoever made it (Kubernetes' name). */
export const PROVISIONED_BY_ANNOTATION = 'pv.kubernetes.io/provisioned-by';
/** Set by the node agent on its Node: where its local-path volumes live. */
export const LOCAL_PATH_DIR_ANNOTATION = 'skiff.io/local-path-dir';
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';
/** Held by a provisioned volume until its node agent has removed the directory. */
export const LOCAL_PATH_FINALIZER = 'skiff.io/local-path-cleanup';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

export const ACCESS_MODES_SUPPORTED = ['ReadWriteOnce', 'ReadWriteOncePod'];
/** Short forms kubectl prints in the ACCESS MODES column. */
export const ACCESS_MODE_SHORT: Record<string, string> = {
  ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP',
};

/** The volume name the provisioner gives a claim's volume, as Kubernetes' "pvc-<claim uid>". */
export function provisionedVolumeName(claimUid: string): string {
  return `pvc-${claimUid}`;
}

function matchRequirement(r: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const v = labels[r.key];
  switch (r.operator) {
    case 'In':
      return v !== undefined && r.values.includes(v);
    case 'NotIn':
      return v === undefined || !r.values.includes(v);
    case 'Exists':
      return v !== undefined;
    case 'DoesNotExist':
      return v === undefined;
    case 'Gt':
    case 'Lt': {
      const n = Number(v);
      const bound = Number(r.values[0]);
      if (v === undefined || !Number.isInteger(n) || !Number.isInteger(bound)) return false;
      return r.operator === 'Gt' ? n > bound : n < bound;
    }
    default:
      return false;
  }
}

/**
 * Kubernetes' node selector: any term matches when all its expressions do; a term with no
 * expressions matches nothing. The node's name counts as its kubernetes.io/hostname label when
 * it has none, so volumes pinned to a node name work on nodes registered without the label.
 */
export function nodeSelectorMatches(sel: NodeSelector | undefined, node: Node): boolean {
  if (!sel) return true;
  const name = node.metadata?.name ?? '';
  const labels = { [HOSTNAME_LABEL]: name, ...(node.metadata?.labels ?? {}) };
  return sel.nodeSelectorTerms.some((t) => t.matchExpressions.length > 0 && t.matchExpressions.every((r) => matchRequirement(r, labels)));
}

/** Whether the volume can be used on the node (no affinity: anywhere). */
export function volumeFitsNode(pv: PersistentVolume, node: Node): boolean {
  return nodeSelectorMatches(pv.spec?.nodeAffinity?.required, node);
}

/**
 * The single node a volume's affinity names with kubernetes.io/hostname In [one name], as the
 * local-path provisioner writes it; undefined for any other affinity.
 */
export function pinnedNode(pv: PersistentVolume): string | undefined {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  if (terms.length !== 1) return undefined;
  const exprs = terms[0]!.matchExpressions;
  if (exprs.length !== 1) return undefined;
  const e = exprs[0]!;
  return e.key === HOSTNAME_LABEL && e.operator === 'In' && e.values.length === 1 ? e.values[0] : undefined;
}

/** The hostname affinity the local-path provisioner gives a volume made on the node. */
export function hostnameAffinity(nodeName: string): NodeSelector {
  return { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [nodeName] }] }] };
}

/** The volume's directory (local or hostPath), '' when it has neither. */
export function volumePath(pv: PersistentVolume): string {
  return pv.spec?.local?.path || pv.spec?.hostPath?.path || '';
}
