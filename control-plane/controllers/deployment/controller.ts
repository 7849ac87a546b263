// The Deployment controller: informer handlers turn Deployment, ReplicaSet and pod changes into
// Deployment keys; workers run syncDeployment (sync.ts) on them. Pod changes matter for
// Recreate (wait until old pods are gone) and autoRollback (crash-looping new pods).
import { objectKey } from '../../../proto/api/kinds.js';
import type { Deployment, ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import type { SharedInformers } from '../../informers.js';
import type { Informer } from '../../storage/informer.js';
import { selectorMatches } from '../../storage/labels.js';
import type { ControllerClient } from '../client.js';
import type { EventRecorder } from '../events.js';
import { controllerRefOf } from '../runtime/claim.js';
import type { Clock } from '../../../proto/api/clock.js';
import { Controller } from '../runtime/controller.js';
import { BY_NAMESPACE, ensureStandardIndexes } from '../runtime/indexes.js';
import type { Logger } from '../runtime/log.js';
import { syncDeployment } from './sync.js';

export interface ControllerDeps {
  informers: SharedInformers;
  client: ControllerClient;
  recorder: EventRecorder;
  now?: () => number;
  workers?: number;
  /** Timers for retries and progress deadlines (tests pass a ManualClock). */
  clock?: Clock;
  log?: Logger;
}

export class DeploymentController {
  // Removed on stop: informers outlive a leadership term, these controllers do not.
  private readonly handlerRemovers: (() => void)[] = [];
  readonly runner: Controller;
  private readonly deployments: Informer<'Deployment'>;
  private readonly replicaSets: Informer<'ReplicaSet'>;
  private readonly pods: Informer<'Pod'>;

  constructor(private readonly d: ControllerDeps) {
    const now = d.now ?? d.clock?.now.bind(d.clock) ?? Date.now;
    this.deployments = d.informers.get('Deployment');
    this.replicaSets = d.informers.get('ReplicaSet');
    this.pods = d.informers.get('Pod');
    this.runner = new Controller({
      name: 'deployment',
      workers: d.workers ?? 5,
      clock: d.clock,
      log: d.log,
      reconcile: (key) =>
        syncDeployment(key, {
          deploymentLister: this.deployments,
          rsLister: this.replicaSets,
          podLister: this.pods,
          client: d.client,
          recorder: d.recorder,
          now,
        }),
    });
  }

  /** Registers handlers, starts (or joins) the informers it reads, then the workers. */
  async start(): Promise<void> {
    ensureStandardIndexes(this.deployments);
    ensureStandardIndexes(this.replicaSets);
    ensureStandardIndexes(this.pods);
    this.handlerRemovers.push(this.deployments.addHandlers({
      onAdd: (o) => this.runner.enqueue(objectKey(o)),
      onUpdate: (_old, o) => this.runner.enqueue(objectKey(o)),
      onDelete: (o) => this.runner.enqueue(objectKey(o)),
    }));
    this.handlerRemovers.push(this.replicaSets.addHandlers({
      onAdd: (rs) => this.rsChanged(undefined, rs),
      onUpdate: (old, rs) => this.rsChanged(old, rs),
      onDelete: (rs) => this.enqueueOwner(rs),
    }));
    this.handlerRemovers.push(this.pods.addHandlers({
      onUpdate: (old, p) => this.podUpdated(old, p),
      onDelete: (p) => this.podDeleted(p),
    }));
    await this.d.informers.start(['Deployment', 'ReplicaSet', 'Pod']);
    this.runner.start();
  }

  async stop(): Promise<void> {
    for (const remove of this.handlerRemovers.splice(0)) remove();
    await this.runner.stop();
  }

  private ownerOf(rs: ReplicaSet): Deployment | undefined {
    const ref = controllerRefOf(rs);
    if (!ref || ref.kind !== 'Deployment') return undefined;
    const d = this.deployments.get(`${rs.metadata?.namespace ?? ''}/${ref.name}`);
    return d && d.metadata?.uid === ref.uid ? d : undefined;
  }

  private enqueueOwner(rs: ReplicaSet): void {
    const d = this.ownerOf(rs);
    if (d) this.runner.enqueue(objectKey(d));
  }

  private rsChanged(old: ReplicaSet | undefined, rs: ReplicaSet): void {
    if (old && old.metadata?.resourceVersion === rs.metadata?.resourceVersion) return;
    if (old && controllerRefOf(old)?.uid !== controllerRefOf(rs)?.uid) this.enqueueOwner(old);
    if (controllerRefOf(rs)) {
      this.enqueueOwner(rs);
      return;
    }
    // An orphan: any Deployment that selects it may adopt it.
    for (const d of this.deployments.byIndex(BY_NAMESPACE, rs.metadata?.namespace ?? '')) {
      if (selectorMatches(d.spec?.selector, rs.metadata?.labels)) this.runner.enqueue(objectKey(d));
    }
  }

  private deploymentOfPod(p: Pod): Deployment | undefined {
    const ref = controllerRefOf(p);
    if (!ref || ref.kind !== 'ReplicaSet') return undefined;
    const rs = this.replicaSets.get(`${p.metadata?.namespace ?? ''}/${ref.name}`);
    return rs && rs.metadata?.uid === ref.uid ? this.ownerOf(rs) : undefined;
  }

  private podUpdated(old: Pod, p: Pod): void {
    const d = this.deploymentOfPod(p);
    if (!d?.spec?.autoRollback) return;
    const restarts = (x: Pod): string =>
      (x.status?.containerStatuses ?? []).map((c) => `${c.restartCount}/${c.state?.waiting?.reason ?? ''}`).join(',');
    if (restarts(old) !== restarts(p)) this.runner.enqueue(objectKey(d));
  }

  private podDeleted(p: Pod): void {
    const d = this.deploymentOfPod(p);
    if (d) this.runner.enqueue(objectKey(d));
  }
}
