// The ReplicaSet controller: informer handlers turn pod and ReplicaSet changes into ReplicaSet
// keys (and settle expectations); workers run syncReplicaSet (sync.ts) on them.
import { objectKey } from '../../../proto/api/kinds.js';
import type { ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import type { SharedInformers } from '../../informers.js';
import type { Informer } from '../../storage/informer.js';
import { selectorMatches } from '../../storage/labels.js';
import type { ControllerClient } from '../client.js';
import type { EventRecorder } from '../events.js';
import type { Clock } from '../../../proto/api/clock.js';
import { Controller } from '../runtime/controller.js';
import { Expectations } from '../runtime/expectations.js';
import { BY_NAMESPACE, ensureStandardIndexes } from '../runtime/indexes.js';
import type { Logger } from '../runtime/log.js';
import { controllerRefOf, isPodReady } from './pods.js';
import { podKey, syncReplicaSet } from './sync.js';

export interface ControllerDeps {
  informers: SharedInformers;
  client: ControllerClient;
  recorder: EventRecorder;
  now?: () => number;
  workers?: number;
  /** Timers for retries and deadlines (tests pass a ManualClock). */
  clock?: Clock;
  log?: Logger;
}

export class ReplicaSetController {
  // Removed on stop: informers outlive a leadership term, these controllers do not.
  private readonly handlerRemovers: (() => void)[] = [];
  readonly expectations: Expectations;
  readonly runner: Controller;
  private readonly pods: Informer<'Pod'>;
  private readonly replicaSets: Informer<'ReplicaSet'>;
  private readonly now: () => number;

  constructor(private readonly d: ControllerDeps) {
    this.now = d.now ?? d.clock?.now.bind(d.clock) ?? Date.now;
    this.expectations = new Expectations(this.now);
    this.pods = d.informers.get('Pod');
    this.replicaSets = d.informers.get('ReplicaSet');
    this.runner = new Controller({
      name: 'replicaset',
      workers: d.workers ?? 5,
      clock: d.clock,
      log: d.log,
      reconcile: (key) =>
        syncReplicaSet(key, {
          rsLister: this.replicaSets,
          podLister: this.pods,
          client: d.client,
          recorder: d.recorder,
          expectations: this.expectations,
          now: this.now,
        }),
    });
  }

  /** Registers handlers, starts (or joins) the pod and ReplicaSet informers, then the workers. */
  async start(): Promise<void> {
    ensureStandardIndexes(this.pods);
    ensureStandardIndexes(this.replicaSets);
    this.handlerRemovers.push(this.replicaSets.addHandlers({
      onAdd: (rs) => this.runner.enqueue(objectKey(rs)),
      onUpdate: (old, rs) => {
        if (old.metadata?.resourceVersion !== rs.metadata?.resourceVersion) this.runner.enqueue(objectKey(rs));
      },
      onDelete: (rs) => {
        this.expectations.delete(objectKey(rs));
        this.runner.enqueue(objectKey(rs));
      },
    }));
    this.handlerRemovers.push(this.pods.addHandlers({
      onAdd: (p) => this.podAdded(p),
      onUpdate: (old, p) => this.podUpdated(old, p),
      onDelete: (p) => this.podDeleted(p),
    }));
    await this.d.informers.start(['Pod', 'ReplicaSet']);
    this.runner.start();
  }

  async stop(): Promise<void> {
    for (const remove of this.handlerRemovers.splice(0)) remove();
    await this.runner.stop();
  }

  /** The ReplicaSet that controls pod, if it is in the cache with the same uid. */
  private owner(p: Pod): ReplicaSet | undefined {
    const ref = controllerRefOf(p);
    if (!ref || ref.kind !== 'ReplicaSet') return undefined;
    const rs = this.replicaSets.get(`${p.metadata?.namespace ?? ''}/${ref.name}`);
    return rs && rs.metadata?.uid === ref.uid ? rs : undefined;
  }

  /** ReplicaSets that may adopt an orphan pod. */
  private matching(p: Pod): ReplicaSet[] {
    return this.replicaSets
      .byIndex(BY_NAMESPACE, p.metadata?.namespace ?? '')
      .filter((rs) => selectorMatches(rs.spec?.selector, p.metadata?.labels));
  }

  private podAdded(p: Pod): void {
    if (p.metadata?.deletionTimestamp) {
      this.podDeleted(p);
      return;
    }
    const rs = this.owner(p);
    if (rs) {
      this.expectations.creationObserved(objectKey(rs));
      this.runner.enqueue(objectKey(rs));
      return;
    }
    if (!controllerRefOf(p)) for (const m of this.matching(p)) this.runner.enqueue(objectKey(m));
  }

  private podUpdated(old: Pod, p: Pod): void {
    if (old.metadata?.resourceVersion === p.metadata?.resourceVersion) return;
    if (p.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) {
      // A terminating pod no longer counts: treat the start of its stop as its deletion.
      this.podDeleted(p);
      if (controllerRefOf(old)?.uid !== controllerRefOf(p)?.uid) this.podDeleted(old);
      return;
    }
    const oldRef = controllerRefOf(old);
    const ref = controllerRefOf(p);
    if (oldRef && oldRef.uid !== ref?.uid) {
      const prev = this.owner(old);
      if (prev) this.runner.enqueue(objectKey(prev));
    }
    const rs = this.owner(p);
    if (rs) {
      this.runner.enqueue(objectKey(rs));
      const minReady = rs.spec?.minReadySeconds ?? 0;
      // Becoming available needs another look after minReadySeconds.
      if (minReady > 0 && !isPodReady(old) && isPodReady(p)) this.runner.enqueueAfter(objectKey(rs), minReady * 1000);
      return;
    }
    const labelsChanged = JSON.stringify(old.metadata?.labels) !== JSON.stringify(p.metadata?.labels);
    if (!ref && (labelsChanged || oldRef)) for (const m of this.matching(p)) this.runner.enqueue(objectKey(m));
  }

  private podDeleted(p: Pod): void {
    const rs = this.owner(p);
    if (!rs) return;
    const key = objectKey(rs);
    this.expectations.deletionObserved(key, podKey(p));
    this.runner.enqueue(key);
  }
}
