// Discovery as kube-apiserver serves it (the legacy, unaggregated form every client falls back
// to): /version, /api, /apis, /apis/GROUP and one APIResourceList per group version, with
// verbs, short names, the "all" category and the subresources Skiff serves.
import type { KindInfo } from '../../proto/api/kinds.js';
import type { JsonObject } from '../../proto/api/manifest.js';
import { kindsOf, servedGroups, type GroupVersion } from './router.js';

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const IN_ALL = new Set(['Pod', 'Service', 'Deployment', 'ReplicaSet']);
const WITH_STATUS = new Set(['Pod', 'Deployment', 'ReplicaSet', 'Node', 'Namespace', 'Service']);
export const WITH_SCALE = new Set(['Deployment', 'ReplicaSet']);

/** The Kubernetes version whose API (fields, defaults, behaviour) Skiff follows. */
export const KUBERNETES_VERSION = { major: '1', minor: '20' };

export function versionInfo(skiffVersion: string): JsonObject {
  return {
    major: KUBERNETES_VERSION.major,
    minor: KUBERNETES_VERSION.minor,
    gitVersion: `v${KUBERNETES_VERSION.major}.${KUBERNETES_VERSION.minor}.0+skiff-${skiffVersion}`,
    gitCommit: process.env.SKIFF_GIT_COMMIT ?? '',
    gitTreeState: 'clean',
    buildDate: '',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch}`,
  };
}

const gvString = (gv: GroupVersion): string => (gv.group ? `${gv.group}/${gv.version}` : gv.version);

export function apiVersions(serverAddress: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function apiGroup(group: string): JsonObject {
  const versions = servedGroups().filter((g) => g.group === group).map((g) => ({ groupVersion: gvString(g), version: g.version }));
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions, preferredVersion: versions[0] ?? {} };
}

export function groupDocument(group: string): JsonObject {
  return apiGroup(group);
}

export function apiGroupList(): JsonObject {
  const names = [...new Set(servedGroups().map((g) => g.group).filter(Boolean))];
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: names.map((n) => { const { kind: _k, apiVersion: _a, ...g } = apiGroup(n); return g; }) };
}

function resourceEntry(i: KindInfo): JsonObject {
  const entry: JsonObject = {
    name: i.plural,
    singularName: i.singular,
    namespaced: i.namespaced,
    kind: i.kind,
    verbs: VERBS,
  };
  if (i.shortNames.length) entry.shortNames = [...i.shortNames];
  if (IN_ALL.has(i.kind)) entry.categories = ['all'];
  return entry;
}

function subresourceEntries(i: KindInfo): JsonObject[] {
  const out: JsonObject[] = [];
  const sub = (name: string, kind: string, verbs: string[], gv?: GroupVersion): JsonObject => ({
    name: `${i.plural}/${name}`, singularName: '', namespaced: i.namespaced, kind, verbs,
    ...(gv ? { group: gv.group, version: gv.version } : {}),
  });
  if (WITH_STATUS.has(i.kind)) out.push(sub('status', i.kind, ['get', 'patch', 'update']));
  if (WITH_SCALE.has(i.kind)) out.push(sub('scale', 'Scale', ['get', 'patch', 'update'], { group: 'autoscaling', version: 'v1' }));
  if (i.kind === 'Pod') {
    out.push(sub('log', 'Pod', ['get']));
    out.push(sub('eviction', 'Eviction', ['create'], { group: 'policy', version: 'v1' }));
  }
  return out;
}

export function resourceList(gv: GroupVersion): JsonObject {
  const resources: JsonObject[] = [];
  for (const i of kindsOf(gv)) resources.push(resourceEntry(i), ...subresourceEntries(i));
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gvString(gv), resources };
}
