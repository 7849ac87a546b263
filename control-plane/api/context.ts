// What every API handler works with: the store (etcd), the shared informer caches, the
// logger and the clock. One object so handlers stay plain async functions, testable in-process.
import type { Logger } from 'pino';
import { errors } from '../../proto/api/errors.js';
import { lookupKind, type AnyObject, type KindInfo } from '../../proto/api/kinds.js';
import { supportedKindsText } from '../../proto/api/manifest.js';
import type { SharedInformers } from '../informers.js';
import type { Store } from '../storage/store.js';
import type { ResourceMetrics } from '../resource-metrics/provider.js';
import type { ServiceRanges } from './allocation/ranges.js';
import { DEFAULT_NAMESPACE } from './defaults.js';
import type { ClientTls } from '../../proto/api/tls-client.js';

export interface ApiContext {
  store: Store;
  informers: SharedInformers;
  log: Logger;
  now: () => Date;
  /** Where Services get their ClusterIPs and NodePorts. */
  serviceRanges: ServiceRanges;
  /** Where PodMetrics and NodeMetrics come from (undefined: the metrics API is off). */
  resourceMetrics?: ResourceMetrics;
  /** How node agents are reached: their CA and the control plane's client certificate. */
  kubelet: ClientTls;
}

/** Kubernetes' timestamp form: RFC 3339 in UTC, whole seconds. */
export function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A kind from any alias ("deploy", "Deployment", "deployments"); BadRequest otherwise. */
export function kindOf(alias: string): KindInfo {
  if (!alias) throw errors.badRequest(`kind is required; supported: ${supportedKindsText()}`);
  const info = lookupKind(alias);
  if (!info) throw errors.badRequest(`unknown kind "${alias}"; supported: ${supportedKindsText()}`);
  return info;
}

/** BadRequest for the metrics kinds, which are read from the node agents and never written. */
export function writableKind(info: KindInfo): KindInfo {
  if (info.readOnly) {
    throw errors.badRequest(`${info.kind} (${info.apiVersion}) is read-only: it is measured on the nodes, not stored; only get and list it`);
  }
  return info;
}

/** The namespace a request means: "default" for a namespaced kind when empty, "" otherwise. */
export function namespaceOf(info: KindInfo, ns: string): string {
  return info.namespaced ? ns || DEFAULT_NAMESPACE : '';
}

/** NotFound unless the namespace of a namespaced object exists (cache first, then etcd). */
export async function requireNamespace(ctx: ApiContext, info: KindInfo, ns: string): Promise<void> {
  if (!info.namespaced) return;
  const inf = ctx.informers.get('Namespace');
  if (inf.hasSynced && inf.get(ns)) return;
  try {
    await ctx.store.get('Namespace', '', ns);
  } catch (e) {
    if (e instanceof Error && 'code' in e && e.code === 'NotFound') {
      throw errors.notFound('Namespace', '', ns);
    }
    throw e;
  }
}

export function clone<T extends AnyObject>(info: KindInfo, o: T): T {
  const codec = info.codec as KindInfo['codec'] & { fromPartial(o: unknown): T };
  return codec.fromPartial(o);
}
