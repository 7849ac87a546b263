// Identities the cluster's own parts carry in their client certificates (Kubernetes' names).

/** The control plane as a client of the agents (kubeadm's apiserver-kubelet-client certificate). */
export const KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';
/** A node's user name and group (the kubelet's client certificate). */
export const NODE_USER_PREFIX = 'system:node:';
export const NODES_GROUP = 'system:nodes';
/** Cluster admins (bound to cluster-admin), e.g. an admin's client certificate. */
export const MASTERS_GROUP = 'system:masters';
