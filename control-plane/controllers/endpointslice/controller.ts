// The EndpointSlice controller: Service, Pod and EndpointSlice changes become Service keys; a
// worker runs reconcileSlices (reconcile.ts) over the cache and writes the plan. Slices it
// created but the cache has not shown yet are waited for (Kubernetes' endpointSliceTracker),
// so a lagging cache never makes it create a second set.
import { isApiError } from '../../../proto/api/errors.js';
import { objectKey } from '../../../proto/api/kinds.js';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import type { EndpointSlice } from '../../../proto/gen/skiff/v1/discovery.js';
import type { SharedInformers } from '../../informers.js';
import type { Informer } from '../../storage/informer.js';
import { selectorMatches } from '../../storage/labels.js';
import type { ControllerClient } from '../client.js';
import type { Clock } from '../../../proto/api/clock.js';
import { Controller, type Result } from '../runtime/controller.js';
import { BY_NAMESPACE, ensureStandardIndexes } from '../runtime/indexes.js';
import type { Logger } from '../runtime/log.js';
import { MANAGED_BY_LABEL, CONTROLLER_NAME, reconcileSlices, SERVICE_NAME_LABEL } from './reconcile.js';

export interface EndpointSliceControllerDeps {
  informers: SharedInformers;
  client: ControllerClient;
  workers?: number;
  clock?: Clock;
  log?: Logger;
}

/** Slices by "namespace/service" (from the service-name label), for slices this controller manages. */
const BY_SERVICE = 'endpointslice:service';
const serviceIndex = (s: EndpointSlice): string[] => {
  const l = s.metadata?.labels ?? {};
  const svc = l[SERVICE_NAME_LABEL];
  return svc && l[MANAGED_BY_LABEL] === CONTROLLER_NAME ? [`${s.metadata?.namespace ?? ''}/${svc}`] : [];
};

const mapSelects = (sel: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean =>
  !!sel && Object.keys(sel).length > 0 && selectorMatches({ matchLabels: sel, matchExpressions: [] }, labels);

/** How long a sync waits for its own creates to reach the cache before looking again. */
const CREATE_WAIT_MS = 200;

export class EndpointSliceController {
  private readonly handlerRemovers: (() => void)[] = [];
  readonly runner: Controller;
  private readonly services: Informer<'Service'>;
  private readonly pods: Informer<'Pod'>;
  private readonly slices: Informer<'EndpointSlice'>;
  /** Names of slices created per service key that the cache has not shown yet. */
  private readonly pendingCreates = new Map<string, Set<string>>();

  constructor(private readonly d: EndpointSliceControllerDeps) {
    this.services = d.informers.get('Service');
    this.pods = d.informers.get('Pod');
    this.slices = d.informers.get('EndpointSlice');
    this.runner = new Controller({ name: 'endpointslice', workers: d.workers ?? 5, clock: d.clock, log: d.log, reconcile: (key) => this.sync(key) });
  }

  async start(): Promise<void> {
    ensureStandardIndexes(this.pods);
    ensureStandardIndexes(this.services);
    if (!this.slices.hasIndex(BY_SERVICE)) this.slices.addIndex(BY_SERVICE, (o) => serviceIndex(o));
    this.handlerRemovers.push(this.services.addHandlers({
      onAdd: (s) => this.runner.enqueue(objectKey(s)),
      onUpdate: (old, s) => {
        if (old.metadata?.resourceVersion !== s.metadata?.resourceVersion) this.runner.enqueue(objectKey(s));
      },
      onDelete: (s) => this.pendingCreates.delete(objectKey(s)),
    }));
    this.handlerRemovers.push(this.pods.addHandlers({
      onAdd: (p) => this.podChanged(undefined, p),
      onUpdate: (old, p) => {
        if (old.metadata?.resourceVersion !== p.metadata?.resourceVersion) this.podChanged(old, p);
      },
      onDelete: (p) => this.podChanged(undefined, p),
    }));
    this.handlerRemovers.push(this.slices.addHandlers({
      onAdd: (s) => this.sliceChanged(s, true),
      onUpdate: (_old, s) => this.sliceChanged(s, false),
      onDelete: (s) => this.sliceChanged(s, true),
    }));
    await this.d.informers.start(['Service', 'Pod', 'EndpointSlice']);
    this.runner.start();
  }

  async stop(): Promise<void> {
    for (const remove of this.handlerRemovers.splice(0)) remove();
    await this.runner.stop();
  }

  private podChanged(old: Pod | undefined, p: Pod): void {
    const ns = p.metadata?.namespace ?? '';
    for (const s of this.services.byIndex(BY_NAMESPACE, ns)) {
      if (mapSelects(s.spec?.selector, p.metadata?.labels) || (old && mapSelects(s.spec?.selector, old.metadata?.labels))) {
        this.runner.enqueue(objectKey(s));
      }
    }
  }

  /** seen: the cache now knows the slice exists or is gone (settles a pending create). */
  private sliceChanged(s: EndpointSlice, seen: boolean): void {
    for (const key of serviceIndex(s)) {
      if (seen) this.pendingCreates.get(key)?.delete(s.metadata?.name ?? '');
      // A slice changed by someone else (or deleted) is put back by the next sync.
      this.runner.enqueue(key);
    }
  }

  private async sync(key: string): Promise<Result | void> {
    const svc = this.services.get(key);
    if (!svc || svc.metadata?.deletionTimestamp) return;
    // Kubernetes manages slices only for services with a selector; the others' are the user's.
    const selector = svc.spec?.selector ?? {};
    if (Object.keys(selector).length === 0) return;
    if (this.pendingCreates.get(key)?.size) return { requeueAfterMs: CREATE_WAIT_MS };
    const ns = svc.metadata?.namespace ?? '';
    const pods = this.pods.byIndex(BY_NAMESPACE, ns).filter((p) => mapSelects(selector, p.metadata?.labels));
    const existing = this.slices.byIndex(BY_SERVICE, key);
    const plan = reconcileSlices(svc, pods, existing);
    for (const s of plan.delete) {
      try {
        await this.d.client.delete('EndpointSlice', ns, s.metadata?.name ?? '', { preconditions: { uid: s.metadata?.uid } });
      } catch (e) {
        if (!isApiError(e, 'NotFound')) throw e;
      }
    }
    for (const s of plan.update) await this.d.client.update('EndpointSlice', s);
    for (const s of plan.create) {
      const created = await this.d.client.create('EndpointSlice', s);
      const name = created.metadata?.name ?? '';
      if (!this.slices.get(`${ns}/${name}`)) {
        const pending = this.pendingCreates.get(key) ?? new Set<string>();
        pending.add(name);
        this.pendingCreates.set(key, pending);
      }
    }
  }
}

