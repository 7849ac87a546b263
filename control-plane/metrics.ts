// The control plane's Prometheus metrics, in one registry served on --metrics-listen.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { authorizeMetrics, type MetricsAccess } from '../proto/api/metrics-auth.js';

export class Metrics {
  readonly registry = new Registry();
  readonly apiRequests = new Counter({
    name: 'skiff_api_requests_total',
    help: 'API calls by verb, kind and result code.',
    labelNames: ['verb', 'kind', 'code'] as const,
    registers: [this.registry],
  });
  readonly apiLatency = new Histogram({
    name: 'skiff_api_request_duration_seconds',
    help: 'API call latency by verb, kind and result code (for watches and logs: until the stream ends).',
    labelNames: ['verb', 'kind', 'code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly watchers = new Gauge({
    name: 'skiff_api_watchers',
    help: 'Open watch streams by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly etcdLatency = new Histogram({
    name: 'skiff_etcd_request_duration_seconds',
    help: 'Latency of storage calls to etcd by operation and result.',
    labelNames: ['operation', 'result'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly podStartup = new Histogram({
    name: 'skiff_pod_startup_latency_seconds',
    help: 'Pod creationTimestamp to the first time the control plane sees it Running (creationTimestamp has millisecond resolution here).',
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}

const TIMED = ['get', 'list', 'create', 'update', 'delete', 'transact', 'currentRevision'] as const;

/**
 * Times the store's etcd calls without touching the storage code: the returned proxy records
 * each call of the listed methods in etcdLatency.
 */
export function instrumentStore<T extends object>(store: T, metrics: Metrics): T {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function' || !(TIMED as readonly (string | symbol)[]).includes(prop)) return v;
      const fn = v as (...args: unknown[]) => Promise<unknown>;
      return async (...args: unknown[]) => {
        const end = metrics.etcdLatency.startTimer({ operation: String(prop) });
        try {
          const r = await fn.apply(receiver, args);
          end({ result: 'ok' });
          return r;
        } catch (e) {
          end({ result: e instanceof Error && 'code' in e ? String(e.code) : 'error' });
          throw e;
        }
      };
    },
  });
}

/** Serves /metrics over plain HTTP to callers access lets in; resolves with the bound port. */
export function serveMetrics(
  metrics: Metrics,
  listen: string,
  access: MetricsAccess,
  more: Registry[] = [],
): Promise<{ port: number; server: Server }> {
  const { host, port } = splitHostPort(listen);
  // merge() registers the same metric objects in a new registry, so values stay live.
  const registry = more.length ? Registry.merge([metrics.registry, ...more]) : metrics.registry;
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('not found: try /metrics\n');
      return;
    }
    if (!authorizeMetrics(req, res, access)) return;
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500).end(String(e)),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({ port: typeof addr === 'object' && addr ? addr.port : port, server });
    });
  });
}

/** --metrics-insecure, or the API's bearer tokens (config.ts refuses metrics with neither). */
export function metricsAccess(insecure: boolean, tokens: ReadonlyMap<string, unknown> | undefined): MetricsAccess {
  if (insecure) return { insecure: true };
  return { insecure: false, accepts: (t) => tokens?.has(t) ?? false };
}

export function splitHostPort(listen: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new Error(`"${listen}" is not host:port`);
  return { host: m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(m[2]) };
}
