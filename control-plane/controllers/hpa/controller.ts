// The HorizontalPodAutoscaler controller (kube-controller-manager's horizontal.go): every HPA
// is synced when it changes and every sync period (15 s, --horizontal-pod-autoscaler-sync-period)
// after that. A sync reads the target Deployment, its pods and their PodMetrics, lets plan()
// decide, writes spec.replicas as `skiff scale` does (a change of spec.replicas only), then the
// status and events. Recommendations and scale events live in memory, as in Kubernetes.
import { isApiError } from '../../../proto/api/errors.js';
import { realClock, type Clock } from '../../../proto/api/clock.js';
import { toMilli } from '../../../proto/api/quantity.js';
import type { HorizontalPodAutoscaler } from '../../../proto/gen/skiff/v1/autoscaling.js';
import type { PodMetrics } from '../../../proto/gen/skiff/v1/metrics.js';
import type { SharedInformers } from '../../informers.js';
import { selectorMatches } from '../../storage/labels.js';
import type { ControllerClient } from '../client.js';
import type { EventRecorder } from '../events.js';
import { Controller, type Result } from '../runtime/controller.js';
import { rootLogger, type Logger } from '../runtime/log.js';
import { emptyMemory, type AutoscalerMemory } from './normalize.js';
import { afterRescale, plan, type HpaSnapshot, type PodUsage } from './reconcile.js';
import type { CalculatorParams } from './replica-calculator.js';

export const DEFAULT_SYNC_PERIOD_MS = 15_000;

export interface HpaControllerOptions {
  informers: SharedInformers;
  client: ControllerClient;
  recorder: EventRecorder;
  /** The resource metrics API (PodMetrics of every node). */
  metrics: { podMetrics(): Promise<PodMetrics[]> };
  syncPeriodMs?: number;
  params?: CalculatorParams;
  clock?: Clock;
  log?: Logger;
}

/** A pod's usage from its PodMetrics, in milli-units (millicores; memory bytes x 1000). */
export function usageOf(m: PodMetrics): PodUsage {
  const containers = new Map<string, Partial<Record<string, number>>>();
  for (const c of m.containers) {
    const u: Partial<Record<string, number>> = {};
    for (const [name, q] of Object.entries(c.usage)) u[name] = toMilli(q);
    containers.set(c.name, u);
  }
  const windowMs = (Number.parseFloat(m.window) || 0) * 1000;
  return { containers, timestampMs: Date.parse(m.timestamp) || 0, windowMs };
}

export class HpaController {
  readonly controller: Controller;
  private readonly handlerRemovers: (() => void)[] = [];
  private readonly memory = new Map<string, AutoscalerMemory>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly period: number;

  constructor(private readonly opts: HpaControllerOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = (opts.log ?? rootLogger).child({ controller: 'horizontal-pod-autoscaler' });
    this.period = opts.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS;
    this.controller = new Controller({ name: 'horizontal-pod-autoscaler', reconcile: (key) => this.reconcile(key), clock: this.clock, log: opts.log });
  }

  async start(): Promise<void> {
    const hpas = this.opts.informers.get('HorizontalPodAutoscaler');
    const key = (h: HorizontalPodAutoscaler): string => `${h.metadata?.namespace ?? ''}/${h.metadata?.name ?? ''}`;
    this.handlerRemovers.push(hpas.addHandlers({
      onAdd: (h) => this.controller.enqueue(key(h)),
      // Status writes come back here too; only a spec change needs a sync before the next period.
      onUpdate: (o, h) => (o.metadata?.generation !== h.metadata?.generation ? this.controller.enqueue(key(h)) : undefined),
      onDelete: (h) => this.memory.delete(key(h)),
    }));
    await this.opts.informers.start(['HorizontalPodAutoscaler', 'Deployment', 'Pod', 'Node']);
    this.controller.start();
  }

  stop(): Promise<void> {
    for (const remove of this.handlerRemovers.splice(0)) remove();
    return this.controller.stop();
  }

  async reconcile(key: string): Promise<Result> {
    const { informers, client, recorder } = this.opts;
    const cached = informers.get('HorizontalPodAutoscaler').get(key);
    if (!cached) {
      this.memory.delete(key);
      return {};
    }
    const snap = await this.snapshot(cached);
    let d = plan(snap);
    const now = this.clock.now();
    if (d.rescale) {
      const { namespace = '', } = cached.metadata ?? {};
      const name = cached.spec?.scaleTargetRef?.name ?? '';
      try {
        await client.patch('Deployment', namespace, name, (dep) => {
          if (!dep.spec) return undefined;
          dep.spec.replicas = d.desiredReplicas;
          return dep;
        });
        d = afterRescale(cached, d, now);
      } catch (e) {
        d = afterRescale(cached, d, now, e instanceof Error ? e.message : String(e));
      }
      this.log.info({ hpa: key, from: d.currentReplicas, to: d.desiredReplicas, reason: d.reason }, 'rescale');
    }
    this.memory.set(key, d.memory);
    for (const ev of d.events) recorder.record(cached, ev.type, ev.reason, ev.message);
    if (JSON.stringify(d.status) !== JSON.stringify(cached.status)) {
      try {
        await client.updateStatus('HorizontalPodAutoscaler', { ...cached, status: d.status });
      } catch (e) {
        // A newer HPA is on its way through the informer; the next sync writes the status.
        if (!isApiError(e) || (e.code !== 'Conflict' && e.code !== 'NotFound')) throw e;
      }
    }
    return { requeueAfterMs: this.period };
  }

  private async snapshot(hpa: HorizontalPodAutoscaler): Promise<HpaSnapshot> {
    const { informers } = this.opts;
    const ns = hpa.metadata?.namespace ?? '';
    const key = `${ns}/${hpa.metadata?.name ?? ''}`;
    const ref = hpa.spec?.scaleTargetRef;
    const base = { hpa, memory: this.memory.get(key) ?? emptyMemory(), nowMs: this.clock.now(), params: this.opts.params };
    const dep = ref?.kind === 'Deployment' ? informers.get('Deployment').get(`${ns}/${ref.name}`) : undefined;
    if (!dep) {
      const what = ref?.kind === 'Deployment' ? `deployments.apps "${ref.name}" not found` : `unsupported scale target kind "${ref?.kind ?? ''}"`;
      return { ...base, scale: { error: what }, pods: [], usage: new Map() };
    }
    const selector = dep.spec?.selector;
    const hasSelector = !!selector && (Object.keys(selector.matchLabels).length > 0 || selector.matchExpressions.length > 0);
    const pods = hasSelector
      ? informers.get('Pod').list().filter((p) => p.metadata?.namespace === ns && selectorMatches(selector, p.metadata.labels))
      : [];
    let usage: HpaSnapshot['usage'];
    try {
      const names = new Set(pods.map((p) => p.metadata?.name ?? ''));
      const all = await this.opts.metrics.podMetrics();
      usage = new Map(all.filter((m) => m.metadata?.namespace === ns && names.has(m.metadata.name)).map((m) => [m.metadata?.name ?? '', usageOf(m)]));
    } catch (e) {
      usage = { error: e instanceof Error ? e.message : String(e) };
    }
    return { ...base, scale: { specReplicas: dep.spec?.replicas ?? 1, hasSelector }, pods, usage };
  }
}
