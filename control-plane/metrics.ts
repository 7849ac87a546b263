// The control plane's Prometheus metrics, in one registry served on --metrics-listen.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { authorizeMetrics, createMetricsServer, type MetricsAccess, type MetricsServer, type MetricsTls } from '../proto/api/metrics-auth.js';

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

/**
 * Serves /metrics over HTTPS (the control plane's serving certificate; never plain HTTP) to
 * callers access lets in; resolves with the bound port.
 */
export function serveMetrics(
  metrics: Metrics,
  listen: string,
  access: MetricsAccess,
  tls: MetricsTls,
  more: Registry[] = [],
): Promise<{ port: number; server: MetricsServer }> {
  const { host, port } = splitHostPort(listen);
  // merge() registers the same metric objects in a new registry, so values stay live.
  const registry = more.length ? Registry.merge([metrics.registry, ...more]) : metrics.registry;
  const server = createMetricsServer(tls, (req, res) => {
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

/**
 * --metrics-insecure, or the API's bearer tokens and, with --client-ca-file, any user that CA
 * signed a client certificate for (config.ts refuses metrics with none of them).
 */
export function metricsAccess(insecure: boolean, tokens: ReadonlyMap<string, unknown> | undefined, clientCa: boolean): MetricsAccess {
  if (insecure) return { insecure: true };
  return {
    insecure: false,
    ...(tokens ? { accepts: (t: string) => tokens.has(t) } : {}),
    ...(clientCa ? { acceptsUser: () => true } : {}),
  };
}

export function splitHostPort(listen: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new Error(`"${listen}" is not host:port`);
  return { host: m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(m[2]) };
}
