// The built-in roles and bindings (Kubernetes' bootstrap policy, cut to the resources Skiff
// serves): cluster-admin, admin, edit, view (never Secrets), the discovery and self-review
// roles every authenticated caller has, and system:node-bootstrapper for agents joining with a
// bootstrap token. Aggregation is not implemented, so admin/edit/view list their rules flat.
import { ClusterRole, ClusterRoleBinding, PolicyRule, type Subject } from '../../proto/gen/skiff/v1/rbac.js';
import { RBAC_GROUP } from '../api/validation/rbac.js';

export const BOOTSTRAP_LABEL = 'kubernetes.io/bootstrapping';
export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];

const rule = (verbs: string[], apiGroups: string[], resources: string[]): PolicyRule =>
  PolicyRule.fromPartial({ verbs, apiGroups, resources });
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => PolicyRule.fromPartial({ verbs, nonResourceURLs });

const VIEW: PolicyRule[] = [
  rule(READ, [''], [
    'configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'pods/log', 'pods/status',
    'services', 'services/status', 'events', 'namespaces', 'namespaces/status',
  ]),
  rule(READ, ['apps'], ['deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status']),
  rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
  rule(READ, ['discovery.k8s.io'], ['endpointslices']),
  rule(READ, ['events.k8s.io'], ['events']),
  rule(READ, ['metrics.k8s.io'], ['pods', 'nodes']),
];

const EDIT: PolicyRule[] = [
  rule([...WRITE, ...READ], [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
  rule(['create'], [''], ['pods/eviction']),
  rule([...WRITE, ...READ], [''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'secrets', 'services', 'services/proxy']),
  rule([...WRITE, ...READ], ['apps'], ['deployments', 'deployments/scale', 'deployments/rollback', 'replicasets', 'replicasets/scale']),
  rule([...WRITE, ...READ], ['autoscaling'], ['horizontalpodautoscalers']),
  rule([...WRITE, ...READ], ['discovery.k8s.io'], ['endpointslices']),
  rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
  ...VIEW,
];

const ADMIN: PolicyRule[] = [
  rule([...WRITE, ...READ], [RBAC_GROUP], ['roles', 'rolebindings']),
  rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
  ...EDIT,
];

const DISCOVERY_URLS = ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/readyz', '/openapi', '/openapi/*', '/version', '/version/'];

function clusterRole(name: string, rules: PolicyRule[]): ClusterRole {
  return ClusterRole.fromPartial({
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRole',
    metadata: { name, labels: { [BOOTSTRAP_LABEL]: 'rbac-defaults' }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    rules,
  });
}

const group = (name: string): Subject => ({ kind: 'Group', apiGroup: RBAC_GROUP, name, namespace: '' });

function binding(name: string, role: string, subjects: Subject[]): ClusterRoleBinding {
  return ClusterRoleBinding.fromPartial({
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { [BOOTSTRAP_LABEL]: 'rbac-defaults' }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
    subjects,
  });
}

export function bootstrapClusterRoles(): ClusterRole[] {
  return [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('admin', ADMIN),
    clusterRole('edit', EDIT),
    clusterRole('view', VIEW),
    clusterRole('system:discovery', [urls(['get'], DISCOVERY_URLS)]),
    clusterRole('system:public-info-viewer', [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
    clusterRole('system:basic-user', [
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ]),
    clusterRole('system:node-bootstrapper', [rule(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests'])]),
    // What the CSR approver asks before it approves a kubelet client certificate (Kubernetes' names).
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [rule(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/nodeclient'])]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [rule(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/selfnodeclient'])]),
  ];
}

export function bootstrapClusterRoleBindings(): ClusterRoleBinding[] {
  return [
    binding('cluster-admin', 'cluster-admin', [group('system:masters')]),
    binding('system:discovery', 'system:discovery', [group('system:authenticated')]),
    binding('system:public-info-viewer', 'system:public-info-viewer', [group('system:authenticated'), group('system:unauthenticated')]),
    binding('system:basic-user', 'system:basic-user', [group('system:authenticated')]),
    // kubeadm's kubeadm:kubelet-bootstrap: agents holding a bootstrap token may ask for a certificate.
    binding('system:node-bootstrapper', 'system:node-bootstrapper', [group('system:bootstrappers')]),
    // kubeadm's node-autoapprove-bootstrap and node-autoapprove-certificate-rotation: a new node's
    // first certificate and every node's renewal of its own are approved automatically.
    binding('kubeadm:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', [group('system:bootstrappers')]),
    binding('kubeadm:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [group('system:nodes')]),
  ];
}
