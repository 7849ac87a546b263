// The lists Kubernetes merges element by element in a strategic merge patch, from the
// patchStrategy/patchMergeKey struct tags of k8s.io/api (core/v1, apps/v1, meta/v1), keyed by
// the Skiff message and field that hold them. A list not named here is atomic: a patch
// replaces it whole, as Kubernetes does for lists without a strategy (tolerations, args,
// command, envFrom, taints, matchExpressions, EndpointSlice endpoints...).

export interface ListStrategy {
  /** The field identifying an element of a list of objects; undefined for a list of scalars merged as a set. */
  mergeKey?: string;
  /** patchStrategy "merge,retainKeys": a `$retainKeys` in an element clears the other keys. */
  retainKeys?: boolean;
}

export const LIST_STRATEGIES: Readonly<Record<string, ListStrategy>> = {
  'skiff.v1.ObjectMeta.ownerReferences': { mergeKey: 'uid' },
  'skiff.v1.ObjectMeta.finalizers': {},
  'skiff.v1.PodSpec.containers': { mergeKey: 'name' },
  'skiff.v1.PodSpec.initContainers': { mergeKey: 'name' },
  'skiff.v1.PodSpec.ephemeralContainers': { mergeKey: 'name' },
  'skiff.v1.PodSpec.volumes': { mergeKey: 'name', retainKeys: true },
  'skiff.v1.PodSpec.imagePullSecrets': { mergeKey: 'name' },
  'skiff.v1.PodSpec.hostAliases': { mergeKey: 'ip' },
  'skiff.v1.PodSpec.topologySpreadConstraints': { mergeKey: 'topologyKey' },
  'skiff.v1.PodSpec.schedulingGates': { mergeKey: 'name' },
  'skiff.v1.Container.ports': { mergeKey: 'containerPort' },
  'skiff.v1.Container.env': { mergeKey: 'name' },
  'skiff.v1.Container.volumeMounts': { mergeKey: 'mountPath' },
  'skiff.v1.Container.volumeDevices': { mergeKey: 'devicePath' },
  'skiff.v1.PodStatus.conditions': { mergeKey: 'type' },
  'skiff.v1.PodStatus.podIPs': { mergeKey: 'ip' },
  'skiff.v1.NodeSpec.podCIDRs': {},
  'skiff.v1.NodeStatus.conditions': { mergeKey: 'type' },
  'skiff.v1.NodeStatus.addresses': { mergeKey: 'type' },
  'skiff.v1.NamespaceStatus.conditions': { mergeKey: 'type' },
  'skiff.v1.ServiceSpec.ports': { mergeKey: 'port' },
  'skiff.v1.ServiceStatus.conditions': { mergeKey: 'type' },
  'skiff.v1.DeploymentStatus.conditions': { mergeKey: 'type' },
  'skiff.v1.ReplicaSetStatus.conditions': { mergeKey: 'type' },
};

/** Object fields with patchStrategy "retainKeys" (a `$retainKeys` directive clears the others). */
export const RETAIN_KEYS_FIELDS: ReadonlySet<string> = new Set(['skiff.v1.DeploymentSpec.strategy']);
