import { describe, expect, it } from 'vitest';
import { Pod } from '../../proto/gen/skiff/v1/core.js';
import { ClusterRoleBinding, Role, RoleBinding, type ClusterRole } from '../../proto/gen/skiff/v1/rbac.js';
import type { Identity } from '../api/auth.js';
import { resourceAttributes, forbiddenMessage, type Attributes, type ResourceAttributes } from './attributes.js';
import { authorize, parseAuthorizationModes, type AuthorizerState } from './authorizer.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.js';
import { NodeRefCounts, type NodeGraphView } from './graph.js';
import type { RbacSnapshot } from './rbac.js';

const RBAC = 'rbac.authorization.k8s.io';

function snapshot(roles: Role[], roleBindings: RoleBinding[], clusterRoles: ClusterRole[], clusterRoleBindings: ClusterRoleBinding[]): RbacSnapshot {
  return {
    clusterRoleBindings: () => clusterRoleBindings,
    roleBindings: (ns) => roleBindings.filter((b) => b.metadata?.namespace === ns),
    clusterRole: (name) => clusterRoles.find((r) => r.metadata?.name === name),
    role: (ns, name) => roles.find((r) => r.metadata?.namespace === ns && r.metadata.name === name),
  };
}

/** A graph over pods and claims held in memory, counted by the same NodeRefCounts the server uses. */
function graph(pods: Pod[], claims: Record<string, string> = {}, pinned: Record<string, string> = {}): NodeGraphView {
  const counts = new NodeRefCounts();
  for (const p of pods) counts.set(`${p.metadata!.namespace}/${p.metadata!.name}`, p);
  return {
    podNode: (ns, name) => pods.find((p) => p.metadata?.namespace === ns && p.metadata.name === name)?.spec?.nodeName,
    nodeUses: (node, kind, ns, name) => kind === 'PersistentVolume'
      ? counts.refsOf(node, 'PersistentVolumeClaim/').some((k) => claims[k.slice('PersistentVolumeClaim/'.length)] === name)
      : counts.uses(node, `${kind}/${ns}/${name}`),
    volumeNode: (name) => pinned[name],
  };
}

const pod = (ns: string, name: string, node: string, secret = '', configMap = '', claim = ''): Pod => Pod.fromPartial({
  metadata: { namespace: ns, name },
  spec: {
    nodeName: node,
    containers: [{ name: 'c', image: 'i', env: secret ? [{ name: 'P', valueFrom: { secretKeyRef: { name: secret, key: 'k' } } }] : [] }],
    volumes: [
      ...(configMap ? [{ name: 'cm', configMap: { name: configMap } }] : []),
      ...(claim ? [{ name: 'data', persistentVolumeClaim: { claimName: claim } }] : []),
    ],
  },
});

const bind = (ns: string, name: string, roleKind: string, role: string, subject: { kind: string; name: string }): RoleBinding =>
  RoleBinding.fromPartial({ metadata: { namespace: ns, name }, roleRef: { apiGroup: RBAC, kind: roleKind, name: role }, subjects: [{ ...subject, apiGroup: RBAC }] });

const state: AuthorizerState = {
  rbac: snapshot(
    [Role.fromPartial({ metadata: { namespace: 'team', name: 'cm-reader' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['settings'] }] })],
    [
      bind('team', 'alice-edit', 'ClusterRole', 'edit', { kind: 'User', name: 'alice' }),
      bind('team', 'viewers', 'ClusterRole', 'view', { kind: 'Group', name: 'auditors' }),
      bind('team', 'carol-cm', 'Role', 'cm-reader', { kind: 'User', name: 'carol' }),
      bind('team', 'robot', 'ClusterRole', 'view', { kind: 'ServiceAccount', name: 'bot' }),
      bind('team', 'owner', 'ClusterRole', 'admin', { kind: 'User', name: 'olga' }),
    ],
    bootstrapClusterRoles(),
    [...bootstrapClusterRoleBindings(), ClusterRoleBinding.fromPartial({ metadata: { name: 'dave-view' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', apiGroup: RBAC, name: 'dave' }] })],
  ),
  graph: graph(
    [pod('team', 'web-1', 'n1', 'db-pass', 'web-config', 'data'), pod('team', 'web-2', 'n2', 'other-pass')],
    { 'team/data': 'pv-data' },
    { 'pv-local-n1': 'n1' },
  ),
};

const user = (name: string, ...groups: string[]): Identity => ({ name, groups: [...groups, 'system:authenticated'] });
const node = (n: string): Identity => ({ name: `system:node:${n}`, groups: ['system:nodes', 'system:authenticated'] });
const r = (verb: string, resource: string, namespace: string, name = '', extra: Partial<ResourceAttributes> = {}): Attributes => {
  const [res = '', sub = ''] = resource.split('/');
  const group = extra.apiGroup ?? ({ deployments: 'apps', replicasets: 'apps', leases: 'coordination.k8s.io', endpointslices: 'discovery.k8s.io', roles: RBAC, rolebindings: RBAC } as Record<string, string>)[res] ?? '';
  return resourceAttributes({ verb, apiGroup: group, resource: res, subresource: sub, namespace, name, ...extra });
};
const nodeField = (n: string) => [{ field: 'spec.nodeName', equal: true, value: n }];
const nameField = (n: string) => [{ field: 'metadata.name', equal: true, value: n }];

const MODES = parseAuthorizationModes('Node,RBAC');

describe('authorize (Node,RBAC)', () => {
  const cases: [string, Identity, Attributes, boolean][] = [
    ['system:masters may do anything', user('root', 'system:masters'), r('delete', 'nodes', '', 'n1'), true],
    ['a user without bindings may do nothing', user('mallory'), r('list', 'pods', 'team'), false],
    ['every authenticated user may review its own access', user('mallory'), r('create', 'selfsubjectaccessreviews', '', '', { apiGroup: 'authorization.k8s.io' }), true],
    ['every authenticated user may read /version', user('mallory'), { type: 'nonResource', verb: 'get', path: '/version' }, true],
    ['discovery under /apis/* for authenticated users', user('mallory'), { type: 'nonResource', verb: 'get', path: '/apis/apps/v1' }, true],
    ['edit in its namespace: apply (create) a Deployment', user('alice'), r('create', 'deployments', 'team'), true],
    ['edit in its namespace: patch a Deployment', user('alice'), r('patch', 'deployments', 'team', 'web'), true],
    ['edit reads Secrets of its namespace', user('alice'), r('get', 'secrets', 'team', 'db-pass'), true],
    ['edit is bound in team only: not in default', user('alice'), r('create', 'deployments', 'default'), false],
    ['edit may not write RoleBindings', user('alice'), r('create', 'rolebindings', 'team'), false],
    ['edit may exec into pods', user('alice'), r('create', 'pods/exec', 'team', 'web-1'), true],
    ['view through a group binding: list pods', user('erin', 'auditors'), r('list', 'pods', 'team'), true],
    ['view reads pod logs', user('erin', 'auditors'), r('get', 'pods/log', 'team', 'web-1'), true],
    ['view never reads Secrets', user('erin', 'auditors'), r('get', 'secrets', 'team', 'db-pass'), false],
    ['view never lists Secrets', user('dave'), r('list', 'secrets', ''), false],
    ['view may not create', user('erin', 'auditors'), r('create', 'deployments', 'team'), false],
    ['view may not exec', user('erin', 'auditors'), r('create', 'pods/exec', 'team', 'web-1'), false],
    ['a ClusterRoleBinding to view reads every namespace', user('dave'), r('list', 'deployments', ''), true],
    ['a ServiceAccount subject matches system:serviceaccount:ns:name', user('system:serviceaccount:team:bot'), r('list', 'services', 'team'), true],
    ['resourceNames: the named ConfigMap', user('carol'), r('get', 'configmaps', 'team', 'settings'), true],
    ['resourceNames: another ConfigMap', user('carol'), r('get', 'configmaps', 'team', 'other'), false],
    ['resourceNames never match a list', user('carol'), r('list', 'configmaps', 'team'), false],
    ['impersonation only for cluster-admin', user('alice'), r('impersonate', 'users', '', 'bob'), false],
    ['bootstrappers may ask for a certificate', { name: 'system:bootstrap:abc123', groups: ['system:bootstrappers', 'system:authenticated'] }, r('create', 'certificatesigningrequests', '', '', { apiGroup: 'certificates.k8s.io' }), true],
    ['the approver\'s check: bootstrappers may create certificatesigningrequests/nodeclient', { name: 'system:bootstrap:abc123', groups: ['system:bootstrappers', 'system:authenticated'] }, r('create', 'certificatesigningrequests/nodeclient', '', '', { apiGroup: 'certificates.k8s.io' }), true],
    ['the approver\'s check: nodes may create certificatesigningrequests/selfnodeclient', node('n1'), r('create', 'certificatesigningrequests/selfnodeclient', '', '', { apiGroup: 'certificates.k8s.io' }), true],
    ['the approver\'s check: nodes may not create certificatesigningrequests/nodeclient', node('n1'), r('create', 'certificatesigningrequests/nodeclient', '', '', { apiGroup: 'certificates.k8s.io' }), false],
    ['nobody but system:masters approves for a signer by default', user('alice'), r('approve', 'signers', '', 'kubernetes.io/kube-apiserver-client', { apiGroup: 'certificates.k8s.io' }), false],
    ['bootstrappers may not list pods', { name: 'system:bootstrap:abc123', groups: ['system:bootstrappers', 'system:authenticated'] }, r('list', 'pods', ''), false],
    // Node restriction.
    ['node: list its own pods by field selector', node('n1'), r('list', 'pods', '', '', { fields: nodeField('n1') }), true],
    ['node: watch its own pods by field selector', node('n1'), r('watch', 'pods', '', '', { fields: nodeField('n1') }), true],
    ['node: list all pods is refused', node('n1'), r('list', 'pods', ''), false],
    ['node: list another node\'s pods is refused', node('n1'), r('list', 'pods', '', '', { fields: nodeField('n2') }), false],
    ['node: get a pod bound to it', node('n1'), r('get', 'pods', 'team', 'web-1'), true],
    ['node: get a pod bound elsewhere', node('n1'), r('get', 'pods', 'team', 'web-2'), false],
    ['node: update status of its pod', node('n1'), r('update', 'pods/status', 'team', 'web-1'), true],
    ['node: update status of another node\'s pod', node('n1'), r('update', 'pods/status', 'team', 'web-2'), false],
    ['node: update the spec of its own pod', node('n1'), r('update', 'pods', 'team', 'web-1'), false],
    ['node: a status write moving the pod elsewhere', node('n1'), r('update', 'pods/status', 'team', 'web-1', { object: pod('team', 'web-1', 'n2') }), false],
    ['node: delete its own pod', node('n1'), r('delete', 'pods', 'team', 'web-1'), true],
    ['node: delete another node\'s pod', node('n1'), r('delete', 'pods', 'team', 'web-2'), false],
    ['node: delete a Deployment', node('n1'), r('delete', 'deployments', 'team', 'web'), false],
    ['node: read the Secret its pod uses', node('n1'), r('get', 'secrets', 'team', 'db-pass'), true],
    ['node: watch the Secret its pod uses by name', node('n1'), r('watch', 'secrets', 'team', 'db-pass', { fields: nameField('db-pass') }), true],
    ['node: read a Secret only another node\'s pod uses', node('n1'), r('get', 'secrets', 'team', 'other-pass'), false],
    ['node: list Secrets', node('n1'), r('list', 'secrets', 'team'), false],
    ['node: read the ConfigMap its pod mounts', node('n1'), r('get', 'configmaps', 'team', 'web-config'), true],
    ['node: read its pod\'s claim and the claim\'s volume', node('n1'), r('get', 'persistentvolumeclaims', 'team', 'data'), true],
    ['node: get the volume bound to its pod\'s claim', node('n1'), r('get', 'persistentvolumes', '', 'pv-data'), true],
    ['node: update a local volume pinned to it', node('n1'), r('update', 'persistentvolumes', '', 'pv-local-n1'), true],
    ['node: update a volume not pinned to it', node('n2'), r('update', 'persistentvolumes', '', 'pv-local-n1'), false],
    ['node: create its own Node', node('n1'), r('create', 'nodes', '', '', { object: pod('', 'n1', '') }), true],
    ['node: create another Node', node('n1'), r('create', 'nodes', '', '', { object: pod('', 'n2', '') }), false],
    ['node: update its own Node status', node('n1'), r('update', 'nodes/status', '', 'n1'), true],
    ['node: update another Node', node('n1'), r('patch', 'nodes', '', 'n2'), false],
    ['node: read every Node (routes)', node('n1'), r('list', 'nodes', ''), true],
    ['node: renew its own Lease', node('n1'), r('update', 'leases', 'kube-node-lease', 'n1'), true],
    ['node: another node\'s Lease', node('n1'), r('update', 'leases', 'kube-node-lease', 'n2'), false],
    ['node: create Events', node('n1'), r('create', 'events', 'team'), true],
    ['node: list Services and EndpointSlices', node('n1'), r('watch', 'endpointslices', ''), true],
    ['node: list events about itself', node('n1'), r('list', 'events', 'default', '', { fields: [{ field: 'involvedObject.kind', equal: true, value: 'Node' }, { field: 'involvedObject.name', equal: true, value: 'n1' }] }), true],
    ['node: list every event', node('n1'), r('list', 'events', 'default'), false],
    ['a system:node: name outside system:nodes is no node', user('system:node:n1'), r('get', 'pods', 'team', 'web-1'), false],
  ];
  it.each(cases)('%s', (_name, who, a, allowed) => {
    expect(authorize(MODES, state, who, a).allowed).toBe(allowed);
  });

  describe('escalation prevention', () => {
    const role = (rules: object[]) => Role.fromPartial({ metadata: { namespace: 'team', name: 'r' }, rules });
    const binding = (kind: string, name: string) => RoleBinding.fromPartial({ metadata: { namespace: 'team', name: 'b' }, roleRef: { apiGroup: RBAC, kind, name }, subjects: [{ kind: 'User', apiGroup: RBAC, name: 'x' }] });
    const write = (resource: string, object: unknown, verb = 'create', ns = 'team') => r(verb, resource, ns, '', { object: object as Pod });
    const cases: [string, Attributes, boolean][] = [
      ['a Role with rules the admin holds', write('roles', role([{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'secrets'] }])), true],
      ['a Role with a verb wildcard the admin does not hold', write('roles', role([{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }])), false],
      ['a Role over Nodes (cluster-scoped, not the admin\'s)', write('roles', role([{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }])), false],
      ['a binding to edit, which admin covers', write('rolebindings', binding('ClusterRole', 'edit')), true],
      ['a binding to cluster-admin', write('rolebindings', binding('ClusterRole', 'cluster-admin')), false],
      ['a binding to a Role the admin covers', write('rolebindings', binding('Role', 'cm-reader')), true],
      ['a patch of a Role (no object to judge) needs escalate', r('patch', 'roles', 'team', 'r'), false],
      ['a Role in a namespace the admin is not bound in', write('roles', role([{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]), 'create', 'default'), false],
    ];
    it.each(cases)('%s', (_name, a, allowed) => {
      expect(authorize(MODES, state, user('olga'), a).allowed).toBe(allowed);
    });

    it('names the rules not held', () => {
      expect(authorize(MODES, state, user('olga'), write('rolebindings', binding('ClusterRole', 'cluster-admin'))).reason)
        .toBe('user "olga" (groups=[system:authenticated]) is attempting to grant RBAC permissions not currently held: {APIGroups:["*"], Resources:["*"], Verbs:["*"]}, {NonResourceURLs:["*"], Verbs:["*"]}');
      expect(authorize(MODES, state, user('root', 'system:masters'), write('rolebindings', binding('ClusterRole', 'cluster-admin'))).allowed).toBe(true);
    });
  });

  it('RBAC alone ignores node restriction; AlwaysAllow allows all', () => {
    expect(authorize(['RBAC'], state, node('n1'), r('get', 'pods', 'team', 'web-1')).allowed).toBe(false);
    expect(authorize(['AlwaysAllow'], state, user('mallory'), r('delete', 'nodes', '', 'n1')).allowed).toBe(true);
  });

  it('says which binding allowed a request and why a node was refused', () => {
    expect(authorize(MODES, state, user('alice'), r('create', 'deployments', 'team')).reason).toBe('RBAC: allowed by RoleBinding "alice-edit/team" of ClusterRole "edit" to User "alice"');
    expect(authorize(MODES, state, node('n1'), r('update', 'pods/status', 'team', 'web-2')).reason).toBe('node "n1" can only update pods bound to it (this one is bound to "n2")');
  });

  it('words a refusal like kube-apiserver', () => {
    expect(forbiddenMessage('bob', r('delete', 'deployments', 'default', 'web'))).toBe('deployments.apps "web" is forbidden: User "bob" cannot delete resource "deployments" in API group "apps" in the namespace "default"');
    expect(forbiddenMessage('bob', r('list', 'nodes', ''))).toBe('nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope');
    expect(forbiddenMessage('bob', r('get', 'pods/log', 'team', 'web-1'))).toBe('pods "web-1" is forbidden: User "bob" cannot get resource "pods/log" in API group "" in the namespace "team"');
  });

  it('refuses unknown modes', () => {
    expect(() => parseAuthorizationModes('Node,ABAC')).toThrow(/unknown mode "ABAC"; supported: AlwaysAllow, Node, RBAC/);
    expect(parseAuthorizationModes('RBAC')).toEqual(['RBAC']);
  });
});
