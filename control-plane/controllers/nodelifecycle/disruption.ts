// Which unhealthy nodes may get their NoExecute taint now, over all nodes at once: Kubernetes'
// zone-aware, rate-limited tainting. Nodes are grouped by topology.kubernetes.io/zone; each
// zone's state is
//   Normal            fewer than 3 unhealthy nodes, or under --unhealthy-zone-threshold of them
//   PartialDisruption at least 3 and at least the threshold unhealthy
//   FullDisruption    none healthy
// and each zone taints its unhealthy nodes one at a time through a token bucket (burst 1):
// --node-eviction-rate nodes/s when Normal or FullDisruption, --secondary-node-eviction-rate
// when PartialDisruption in a zone larger than --large-cluster-size-threshold, none when
// smaller. When every zone is in FullDisruption the control plane is the one cut off (not every
// node dead at once): nothing is tainted and the NoExecute taints already set are lifted, so a
// partition of the control plane never evicts a workload.
import type { NodeHealth } from './decide.js';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface DisruptionConfig {
  /** Nodes tainted (their pods start to be evicted) per second per zone; Kubernetes: 0.1. */
  evictionRate: number;
  /** The same in a partially disrupted large zone; Kubernetes: 0.01. */
  secondaryEvictionRate: number;
  /** Share of unhealthy nodes (with at least 3) that makes a zone partially disrupted; 0.55. */
  unhealthyZoneThreshold: number;
  /** Zones of at most this many nodes stop tainting when partially disrupted; 50. */
  largeClusterThreshold: number;
}

export const DEFAULT_DISRUPTION: DisruptionConfig = {
  evictionRate: 0.1,
  secondaryEvictionRate: 0.01,
  unhealthyZoneThreshold: 0.55,
  largeClusterThreshold: 50,
};

export type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';

export interface NodeSnapshot {
  name: string;
  zone: string;
  health: NodeHealth;
  /** The NoExecute taint key this node waits for (decide.ts); undefined: none wanted or it has one. */
  wantsNoExecute?: string;
  /** When it was first seen unhealthy (queue order, as Kubernetes' timed queue). */
  unhealthySince: number;
}

/** A zone's token bucket: tokens (at most 1) as of time at. */
export interface Bucket {
  tokens: number;
  at: number;
}

export interface TaintingPlan {
  zones: Map<string, ZoneState>;
  /** Nodes to give their wanted NoExecute taint now. */
  taint: { name: string; key: string }[];
  /** Every zone fully disrupted: lift the controller's NoExecute taints, taint nothing. */
  liftAll: boolean;
  buckets: Map<string, Bucket>;
  /** When the next token makes a waiting node taintable; undefined: nobody waits for one. */
  recheckInMs?: number;
}

export function zoneState(size: number, unhealthy: number, threshold: number): ZoneState {
  if (size > 0 && unhealthy === size) return 'FullDisruption';
  if (unhealthy > 2 && unhealthy / size >= threshold) return 'PartialDisruption';
  return 'Normal';
}

function rateFor(state: ZoneState, size: number, c: DisruptionConfig): number {
  if (state === 'PartialDisruption') return size > c.largeClusterThreshold ? c.secondaryEvictionRate : 0;
  return c.evictionRate;
}

function refill(b: Bucket | undefined, rate: number, now: number): Bucket {
  if (!b) return { tokens: 1, at: now };
  return { tokens: Math.min(1, b.tokens + (Math.max(0, now - b.at) / 1000) * rate), at: now };
}

export function planTainting(input: { nodes: readonly NodeSnapshot[]; buckets: ReadonlyMap<string, Bucket>; now: number; config: DisruptionConfig }): TaintingPlan {
  const { nodes, now, config } = input;
  const byZone = new Map<string, NodeSnapshot[]>();
  for (const n of nodes) byZone.set(n.zone, [...(byZone.get(n.zone) ?? []), n]);
  const zones = new Map<string, ZoneState>();
  for (const [zone, list] of byZone) {
    zones.set(zone, zoneState(list.length, list.filter((n) => n.health !== 'ready').length, config.unhealthyZoneThreshold));
  }
  const liftAll = zones.size > 0 && [...zones.values()].every((s) => s === 'FullDisruption');
  const buckets = new Map<string, Bucket>();
  const taint: TaintingPlan['taint'] = [];
  let recheck = Number.POSITIVE_INFINITY;
  for (const [zone, list] of byZone) {
    const state = zones.get(zone)!;
    const rate = liftAll ? 0 : rateFor(state, list.length, config);
    const bucket = refill(input.buckets.get(zone), rate, now);
    const waiting = list
      .filter((n) => n.wantsNoExecute)
      .sort((a, b) => a.unhealthySince - b.unhealthySince || (a.name < b.name ? -1 : 1));
    for (const n of waiting) {
      if (rate <= 0) break;
      if (bucket.tokens < 1) {
        recheck = Math.min(recheck, ((1 - bucket.tokens) / rate) * 1000);
        break;
      }
      bucket.tokens -= 1;
      taint.push({ name: n.name, key: n.wantsNoExecute! });
    }
    buckets.set(zone, bucket);
  }
  return { zones, taint, liftAll, buckets, recheckInMs: Number.isFinite(recheck) ? Math.ceil(recheck) : undefined };
}
