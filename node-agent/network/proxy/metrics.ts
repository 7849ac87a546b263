// The node proxy's metrics, registered in the agent's registry (node-agent/metrics.ts).
import { Counter, Histogram, type Registry } from 'prom-client';

export interface ProxyMetrics {
  syncDuration: Histogram<'mode' | 'outcome'>;
  syncs: Counter<'mode' | 'outcome'>;
}

export function proxyMetrics(registry?: Registry): ProxyMetrics {
  const registers = registry ? [registry] : [];
  return {
    syncDuration: new Histogram({
      name: 'skiff_proxy_sync_duration_seconds',
      help: 'Time to generate and apply one nftables transaction, by mode (full|partial) and outcome',
      labelNames: ['mode', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    syncs: new Counter({
      name: 'skiff_proxy_syncs_total',
      help: 'nftables syncs by mode and outcome',
      labelNames: ['mode', 'outcome'],
      registers,
    }),
  };
}
