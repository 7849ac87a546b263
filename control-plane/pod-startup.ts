// Feeds skiff_pod_startup_latency_seconds from the Pod informer: the same figure the density
// benchmark measures (creation -> Running), readable live from /metrics. Each pod counts once.
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import type { InformerHandlers } from './storage/informer.js';

export function podStartupHandlers(observe: (seconds: number) => void, now: () => number = Date.now): InformerHandlers<Pod> {
  const seen = new Set<string>();
  const check = (p: Pod): void => {
    const uid = p.metadata?.uid ?? '';
    if (!uid || seen.has(uid) || p.status?.phase !== 'Running') return;
    seen.add(uid);
    const created = Date.parse(p.metadata?.creationTimestamp ?? '');
    if (Number.isFinite(created)) observe(Math.max(0, (now() - created) / 1000));
  };
  return {
    // Pods already Running when the process starts were not watched starting: skip them.
    onAdd: (p) => {
      if (p.status?.phase === 'Running' && p.metadata?.uid) seen.add(p.metadata.uid);
    },
    onUpdate: (_old, p) => check(p),
    onDelete: (p) => {
      seen.delete(p.metadata?.uid ?? '');
    },
  };
}
