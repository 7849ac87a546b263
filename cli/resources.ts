// Resource type words as kubectl users type them: kinds, plurals, short names, the
// "deployment.apps" group form and "TYPE/NAME" references.
import { errors } from '../proto/api/errors.js';
import { KIND_NAMES, KINDS, lookupKind, type AnyObject, type KindInfo } from '../proto/api/kinds.js';

function group(info: KindInfo): string {
  const slash = info.apiVersion.indexOf('/');
  return slash < 0 ? '' : info.apiVersion.slice(0, slash);
}

/** "deployment.apps", "pod": the name kubectl prints in "deployment.apps/web created". */
export function qualifiedName(info: KindInfo): string {
  const g = group(info);
  return g ? `${info.singular}.${g}` : info.singular;
}

export function knownTypesText(): string {
  return KIND_NAMES.map((k) => {
    const i = KINDS[k];
    return i.shortNames.length ? `${i.plural} (${i.shortNames.join(', ')})` : i.plural;
  }).join(', ');
}

/** Finds a kind from what a user typed: "po", "pods", "Pod", "deployments.apps". */
export function resolveType(word: string): KindInfo {
  const direct = lookupKind(word);
  if (direct) return direct;
  const dot = word.indexOf('.');
  if (dot > 0) {
    const info = lookupKind(word.slice(0, dot));
    if (info && group(info) === word.slice(dot + 1).toLowerCase()) return info;
  }
  throw errors.badRequest(`the server doesn't have a resource type "${word}"; known types: ${knownTypesText()}`);
}

export interface TypedName {
  info: KindInfo;
  name: string;
}

/**
 * Reads `TYPE NAME`, `TYPE/NAME` or (with a default type) a bare `NAME`, as `logs` and `scale`
 * accept. Returns the kind and the name.
 */
export function parseRef(args: readonly string[], defaultType?: KindInfo): TypedName {
  const [first, second] = args;
  if (!first) throw errors.badRequest('a resource is required: TYPE/NAME or TYPE NAME');
  const slash = first.indexOf('/');
  if (slash >= 0) {
    if (second !== undefined) throw errors.badRequest(`give either TYPE/NAME or TYPE NAME, not "${args.join(' ')}"`);
    const name = first.slice(slash + 1);
    if (!name) throw errors.badRequest(`"${first}" has no name after the slash`);
    return { info: resolveType(first.slice(0, slash)), name };
  }
  if (second !== undefined) return { info: resolveType(first), name: second };
  if (defaultType) return { info: defaultType, name: first };
  throw errors.badRequest(`"${first}" needs a name: TYPE/NAME or TYPE NAME`);
}

/** The namespace a request for this kind uses: none for cluster-scoped kinds. */
export function namespaceFor(info: KindInfo, namespace: string): string {
  return info.namespaced ? namespace : '';
}

export function displayRef(info: KindInfo, o: AnyObject): string {
  return `${qualifiedName(info)}/${o.metadata?.name ?? ''}`;
}

/** `deployment.apps "web"` as kubectl writes it in deletion messages. */
export function quotedRef(info: KindInfo, name: string): string {
  return `${qualifiedName(info)} "${name}"`;
}
