// Kubernetes REST paths: /api/v1/... for the core group, /apis/GROUP/VERSION/... for the
// others; a namespaced resource under namespaces/NS/, a named object, a subresource.
import { KIND_NAMES, KINDS, type KindInfo } from '../../proto/api/kinds.js';

export interface GroupVersion {
  group: string;
  version: string;
}

/** The group and version of an apiVersion string ("apps/v1", "v1"). */
export function groupVersionOf(apiVersion: string): GroupVersion {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export function kindsOf(gv: GroupVersion): KindInfo[] {
  return KIND_NAMES.map((k) => KINDS[k] as KindInfo).filter((i) => {
    const g = groupVersionOf(i.apiVersion);
    return g.group === gv.group && g.version === gv.version;
  });
}

/** Every group Skiff serves ("" for core), in the order of the kinds table. */
export function servedGroups(): GroupVersion[] {
  const out: GroupVersion[] = [];
  for (const k of KIND_NAMES) {
    const gv = groupVersionOf(KINDS[k].apiVersion);
    if (!out.some((o) => o.group === gv.group && o.version === gv.version)) out.push(gv);
  }
  return out;
}

export type Route =
  | { type: 'discovery-root'; path: '/api' | '/apis' }
  | { type: 'group'; group: string }
  | { type: 'resources'; gv: GroupVersion }
  | { type: 'resource'; gv: GroupVersion; info: KindInfo; namespace: string; name: string; subresource: string }
  | { type: 'unknown' };

/** Splits a request path into what it addresses; 'unknown' when Skiff serves nothing there. */
export function route(pathname: string): Route {
  const segs = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let gv: GroupVersion;
  let rest: string[];
  if (segs[0] === 'api') {
    if (segs.length === 1) return { type: 'discovery-root', path: '/api' };
    if (segs[1] !== 'v1') return { type: 'unknown' };
    gv = { group: '', version: 'v1' };
    rest = segs.slice(2);
  } else if (segs[0] === 'apis') {
    if (segs.length === 1) return { type: 'discovery-root', path: '/apis' };
    const group = segs[1]!;
    if (segs.length === 2) return servedGroups().some((g) => g.group === group) ? { type: 'group', group } : { type: 'unknown' };
    gv = { group, version: segs[2]! };
    rest = segs.slice(3);
  } else return { type: 'unknown' };
  const kinds = kindsOf(gv);
  if (kinds.length === 0) return { type: 'unknown' };
  if (rest.length === 0) return { type: 'resources', gv };
  let namespace = '';
  // namespaces/NS/RESOURCE... is a namespaced path; namespaces[/NAME[/status]] is the Namespace itself.
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1]!;
    rest = rest.slice(2);
  }
  const info = kinds.find((k) => k.plural === rest[0]);
  if (!info || rest.length > 3) return { type: 'unknown' };
  if (namespace && !info.namespaced) return { type: 'unknown' };
  return { type: 'resource', gv, info, namespace, name: rest[1] ?? '', subresource: rest[2] ?? '' };
}
