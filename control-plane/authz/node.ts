// Kubernetes' Node authorizer and NodeRestriction admission in one pure decision: a caller in
// group system:nodes named system:node:<n> may read what the pods bound to <n> need (found
// through the graph, never by scanning), write its own Node and Lease, the status of its own
// pods, delete its own pods once stopped, and post Events. Everything else gets no opinion
// here (RBAC decides, and grants nodes nothing by default).
import type { Identity } from '../api/auth.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { pinnedField, type Attributes, type Decision, type ResourceAttributes } from './attributes.js';
import type { NodeGraphView } from './graph.js';

export const NODES_GROUP = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';
/** Where node Leases live (the agent renews system:node:<n>'s Lease <n> there). */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

const READ = new Set(['get', 'list', 'watch']);

/** The node name of a node identity, or undefined for every other caller. */
export function nodeNameOf(who: Identity): string | undefined {
  if (!who.groups.includes(NODES_GROUP) || !who.name.startsWith(NODE_USER_PREFIX)) return undefined;
  const n = who.name.slice(NODE_USER_PREFIX.length);
  return n || undefined;
}

const allow = (reason: string): Decision => ({ allowed: true, reason });
const noOpinion = (reason: string): Decision => ({ allowed: false, reason });

/** The name a request is about: the object's for a create, the path's otherwise. */
function targetName(a: ResourceAttributes): string {
  return a.verb === 'create' && !a.name ? (a.object?.metadata?.name ?? '') : a.name;
}

export function nodeAuthorize(graph: NodeGraphView, who: Identity, attrs: Attributes): Decision {
  const node = nodeNameOf(who);
  if (node === undefined || attrs.type !== 'resource') return noOpinion('');
  const a = attrs;
  const core = a.apiGroup === '';
  const what = `${a.resource}${a.subresource ? `/${a.subresource}` : ''}`;
  if (core && ['secrets', 'configmaps', 'persistentvolumeclaims'].includes(a.resource) && !a.subresource) return related(graph, node, a);
  if (core && a.resource === 'persistentvolumes' && !a.subresource) return volume(graph, node, a);
  if (core && a.resource === 'pods') return pod(graph, node, a);
  if (core && a.resource === 'nodes') {
    if (READ.has(a.verb) && !a.subresource) return allow('nodes read Nodes');
    const name = targetName(a);
    if (['create', 'update', 'patch'].includes(a.verb) && (a.subresource === '' || a.subresource === 'status')) {
      if (a.verb === 'create' && a.subresource) return noOpinion('');
      return name === node ? allow('a node writes its own Node') : noOpinion(`node "${node}" may only write its own Node, not "${name}"`);
    }
    return noOpinion('');
  }
  if (a.apiGroup === 'coordination.k8s.io' && a.resource === 'leases' && !a.subresource) {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return noOpinion('');
    const name = targetName(a);
    if (a.namespace === NODE_LEASE_NAMESPACE && name === node) return allow('a node renews its own Lease');
    return noOpinion(`node "${node}" may only use its own Lease "${NODE_LEASE_NAMESPACE}/${node}"`);
  }
  if ((core || a.apiGroup === 'events.k8s.io') && a.resource === 'events') {
    if (['create', 'update', 'patch'].includes(a.verb)) return allow('nodes post Events');
    // The agent reads why its Node got no pod range: events about itself only.
    if ((a.verb === 'list' || a.verb === 'watch') && pinnedField(a, 'involvedObject.name') === node && pinnedField(a, 'involvedObject.kind') === 'Node') {
      return allow('a node reads the Events about its own Node');
    }
    return noOpinion('');
  }
  if (READ.has(a.verb) && !a.subresource && ((core && a.resource === 'services') || (a.apiGroup === 'discovery.k8s.io' && a.resource === 'endpointslices'))) {
    return allow(`nodes read ${what} (Service proxy, cluster DNS)`);
  }
  if (a.apiGroup === 'certificates.k8s.io' && a.resource === 'certificatesigningrequests' && !a.subresource && ['create', 'get', 'list', 'watch'].includes(a.verb)) {
    return allow('nodes request and renew their certificates');
  }
  return noOpinion('');
}

/** Secrets, ConfigMaps, claims: only those a pod bound to the node references. */
function related(graph: NodeGraphView, node: string, a: ResourceAttributes): Decision {
  if (!READ.has(a.verb)) return noOpinion('');
  // A list or watch must name one object (fieldSelector metadata.name=X), as Kubernetes asks.
  const name = a.name || (a.verb !== 'get' ? pinnedField(a, 'metadata.name') : undefined);
  if (!name || !a.namespace) return noOpinion(`node "${node}" may only ${a.verb} ${a.resource} its pods use, one at a time by name`);
  const kind = a.resource === 'secrets' ? 'Secret' : a.resource === 'configmaps' ? 'ConfigMap' : 'PersistentVolumeClaim';
  if (graph.nodeUses(node, kind, a.namespace, name)) return allow(`a pod bound to node "${node}" uses ${kind} "${a.namespace}/${name}"`);
  return noOpinion(`no relationship found between node "${node}" and this object`);
}

/**
 * PersistentVolumes: get those its pods' claims are bound to; list and watch all of them, and
 * update those pinned to it (Skiff's local-path provisioner runs inside the agent, where k3s
 * runs it as a pod with its own account).
 */
function volume(graph: NodeGraphView, node: string, a: ResourceAttributes): Decision {
  if (a.verb === 'list' || a.verb === 'watch') return allow('the local-path provisioner of a node follows PersistentVolumes');
  if (a.verb === 'get' && (graph.nodeUses(node, 'PersistentVolume', '', a.name) || graph.volumeNode(a.name) === node)) {
    return allow(`PersistentVolume "${a.name}" is used by or pinned to node "${node}"`);
  }
  if ((a.verb === 'update' || a.verb === 'patch') && graph.volumeNode(a.name) === node) {
    return allow(`PersistentVolume "${a.name}" is pinned to node "${node}" (local-path)`);
  }
  return noOpinion(`no relationship found between node "${node}" and this object`);
}

function pod(graph: NodeGraphView, node: string, a: ResourceAttributes): Decision {
  if ((a.verb === 'list' || a.verb === 'watch') && !a.subresource) {
    if (pinnedField(a, 'spec.nodeName') === node) return allow(`node "${node}" lists the pods bound to it`);
    return noOpinion(`node "${node}" may only ${a.verb} pods with the field selector spec.nodeName=${node}`);
  }
  const bound = a.name ? graph.podNode(a.namespace, a.name) : undefined;
  const mine = bound === node;
  const refuse = noOpinion(`node "${node}" can only ${a.verb} pods bound to it${bound ? ` (this one is bound to "${bound}")` : ''}`);
  if (a.verb === 'get' && !a.subresource) return mine ? allow('the pod is bound to this node') : refuse;
  // The status of its own pods, never their spec: the object written must stay on this node too.
  if ((a.verb === 'update' || a.verb === 'patch') && a.subresource === 'status') {
    const target = (a.object as Pod | undefined)?.spec?.nodeName;
    if (target !== undefined && target !== '' && target !== node) return refuse;
    return mine ? allow('status of a pod bound to this node') : refuse;
  }
  if (a.verb === 'delete' && !a.subresource) return mine ? allow('a node removes its stopped pods') : refuse;
  return noOpinion('');
}
