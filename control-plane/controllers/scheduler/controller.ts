// The scheduler as a controller: the pure schedule() fed from the shared informer caches.
// Every change that can make a pending pod placeable (a new pending pod, a pod gone or
// finished, a node added or changed) enqueues the one key "batch"; the work queue runs one
// batch at a time and folds the events that arrive meanwhile into the next one. A batch binds
// each placed pod with one compare-and-swap write (spec.nodeName + PodScheduled=True), so a
// stale cache can never bind a pod twice, and waits until the cache has seen its writes so
// the next batch accounts for them. Pods that fit nowhere get PodScheduled=False/Unschedulable
// and one FailedScheduling event per distinct reason, and are retried on the next change and
// every retryIntervalMs.
import { isApiError } from '../../../proto/api/errors.js';
import { Pod, PodSpec, PodStatus, type Node } from '../../../proto/gen/skiff/v1/core.js';
import type { SharedInformers } from '../../informers.js';
import type { Store } from '../../storage/store.js';
import type { EventRecorder } from '../events.js';
import { realClock, type Clock } from '../../../proto/api/clock.js';
import { Controller, type Result } from '../runtime/controller.js';
import { rootLogger, type Logger } from '../runtime/log.js';
import { findCondition, setCondition } from './conditions.js';
import { schedule, type ScheduleResult, type Snapshot } from './schedule.js';
import { PersistentVolumeClaim } from '../../../proto/gen/skiff/v1/storage.js';
import { SELECTED_NODE_ANNOTATION } from '../../../proto/api/storage.js';
import { objectKey } from '../../../proto/api/kinds.js';
import { mapSettledLimit } from './concurrency.js';
import { NodeLoads } from './node-loads.js';

/** Binds in flight at once within one scheduling batch. */
const BIND_CONCURRENCY = 64;

export const SCHEDULER_NAME = 'default-scheduler';
const BATCH_KEY = 'batch';
/** Pod informer index of the pods this scheduler must place (one value, PENDING). */
const PENDING_INDEX = 'scheduler:pending';
const PENDING = 'pending';
const CACHE_WAIT_MS = 10_000;

export interface SchedulerOptions {
  store: Store;
  informers: SharedInformers;
  recorder: EventRecorder;
  /** Retry of unschedulable pods when nothing changes; default 30 s. */
  retryIntervalMs?: number;
  clock?: Clock;
  log?: Logger;
}

/** Pods this scheduler must place: unbound, not being deleted, and not meant for another scheduler. */
export function isPending(p: Pod): boolean {
  const name = p.spec?.schedulerName ?? '';
  return !p.spec?.nodeName && !p.metadata?.deletionTimestamp && (name === '' || name === SCHEDULER_NAME);
}

function frees(p: Pod): boolean {
  const phase = p.status?.phase ?? '';
  return !!p.spec?.nodeName && (phase === 'Succeeded' || phase === 'Failed');
}

export class SchedulerController {
  // Removed on stop: informers outlive a leadership term, these controllers do not.
  private readonly handlerRemovers: (() => void)[] = [];
  readonly controller: Controller;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly retryMs: number;
  private nextStartIndex = 0;
  /** What bound pods take per node, from the Pod informer's events (undefined until fed). */
  private loads: NodeLoads | undefined;
  private signalStop: () => void = () => undefined;
  private readonly stopped = new Promise<void>((r) => (this.signalStop = r));

  constructor(private readonly opts: SchedulerOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = (opts.log ?? rootLogger).child({ controller: 'scheduler' });
    this.retryMs = opts.retryIntervalMs ?? 30_000;
    this.controller = new Controller({
      name: 'scheduler',
      reconcile: () => this.runBatch(),
      clock: this.clock,
      log: opts.log,
    });
  }

  async start(): Promise<void> {
    const { informers } = this.opts;
    const pods = informers.get('Pod');
    const nodes = informers.get('Node');
    const kick = (): void => this.controller.enqueue(BATCH_KEY);
    this.feedLoads();
    this.handlerRemovers.push(pods.addHandlers({
      onAdd: (p) => isPending(p) && kick(),
      onUpdate: (old, p) => {
        if (isPending(p) || (frees(p) && !frees(old))) kick();
      },
      onDelete: (p) => !!p.spec?.nodeName && kick(),
    }));
    this.handlerRemovers.push(nodes.addHandlers({ onAdd: kick, onUpdate: (old: Node, n: Node) => nodeChanged(old, n) && kick(), onDelete: kick }));
    // Pods wait on claims being made, bound or filled in with the default class.
    for (const kind of ['PersistentVolumeClaim', 'PersistentVolume', 'StorageClass'] as const) {
      this.handlerRemovers.push(informers.get(kind).addHandlers({ onAdd: kick, onUpdate: kick, onDelete: kick }));
    }
    await informers.start(['Pod', 'Node', 'PersistentVolumeClaim', 'PersistentVolume', 'StorageClass']);
    this.controller.start();
    kick();
  }

  /** Keeps the pending index and the per-node loads from the Pod informer (once; before start too). */
  private feedLoads(): NodeLoads {
    if (this.loads) return this.loads;
    const pods = this.opts.informers.get('Pod');
    if (!pods.hasIndex(PENDING_INDEX)) pods.addIndex(PENDING_INDEX, (p) => (isPending(p) ? [PENDING] : []));
    const loads = new NodeLoads();
    this.loads = loads;
    this.handlerRemovers.push(pods.addHandlers({
      onAdd: (p) => loads.set(objectKey(p), p),
      onUpdate: (_old, p) => loads.set(objectKey(p), p),
      onDelete: (p) => loads.set(objectKey(p), undefined),
    }));
    return loads;
  }

  stop(): Promise<void> {
    // The loads stay set (stale from here on): a batch still running must not feed a new one.
    for (const remove of this.handlerRemovers.splice(0)) remove();
    this.signalStop();
    return this.controller.stop();
  }

  /** One scheduling pass over every pending pod in the cache. */
  async runBatch(): Promise<Result> {
    const pods = this.opts.informers.get('Pod');
    this.feedLoads();
    const pending = pods.byIndex(PENDING_INDEX, PENDING);
    if (pending.length === 0) return {};
    const plan = schedule(this.snapshot(pending), pending, { startIndex: this.nextStartIndex });
    this.nextStartIndex = plan.nextStartIndex;
    let lastWrite = 0;
    let conflicts = 0;
    // Each bind is its own compare-and-swap on a different pod, so they need not wait for one
    // another: serial binds capped throughput at one etcd round trip per pod.
    const bound = await mapSettledLimit(plan.bindings, BIND_CONCURRENCY, (b) => this.bind(b.pod, b.nodeName));
    for (const rev of bound) {
      if (rev === undefined) conflicts++;
      else lastWrite = Math.max(lastWrite, rev);
    }
    // WaitForFirstConsumer: name the node on the claims; the binding controller makes their
    // volumes there and the claims' changes bring their pods back here to be bound.
    const selected = await mapSettledLimit(plan.selections.flatMap((sel) => sel.claims.map((c) => ({ c, node: sel.nodeName }))), BIND_CONCURRENCY,
      (x) => this.selectNode(x.c, x.node));
    for (const rev of selected) if (rev) lastWrite = Math.max(lastWrite, rev);
    const marked = await mapSettledLimit(plan.failures, BIND_CONCURRENCY, (f) => this.markUnschedulable(f.pod, f.message));
    for (const rev of marked) if (rev) lastWrite = Math.max(lastWrite, rev);
    // The next batch must see these bindings, or it could give their room away again.
    // Bounded: a cache cut off from etcd must not hold up stop() when leadership is lost.
    if (lastWrite) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        pods.waitForRevision(lastWrite),
        this.stopped,
        new Promise<void>((r) => (timer = setTimeout(r, CACHE_WAIT_MS))),
      ]);
      clearTimeout(timer);
    }
    this.log.debug({ bound: plan.bindings.length - conflicts, unschedulable: plan.failures.length, conflicts }, 'batch');
    if (conflicts) return { requeueAfterMs: 0 };
    return plan.failures.length ? { requeueAfterMs: this.retryMs } : {};
  }

  /** CAS-binds the pod; the revision written, or undefined when the pod moved on (re-queued). */
  private async bind(cached: Pod, nodeName: string): Promise<number | undefined> {
    const pod = Pod.fromPartial(cached);
    pod.spec ??= PodSpec.fromPartial({});
    pod.spec.nodeName = nodeName;
    pod.status ??= PodStatus.fromPartial({ phase: 'Pending' });
    setCondition(pod.status.conditions, { type: 'PodScheduled', status: 'True', reason: '', message: '' }, this.clock.now());
    try {
      const written = await this.opts.store.update('Pod', pod, { current: cached });
      const m = written.metadata;
      this.opts.recorder.record(written, 'Normal', 'Scheduled', `Successfully assigned ${m?.namespace ?? ''}/${m?.name ?? ''} to ${nodeName}`);
      return Number(written.metadata?.resourceVersion);
    } catch (e) {
      if (isApiError(e, 'Conflict') || isApiError(e, 'NotFound')) return undefined;
      throw e;
    }
  }

  private async selectNode(cached: PersistentVolumeClaim, nodeName: string): Promise<number | undefined> {
    const claim = PersistentVolumeClaim.fromPartial(cached);
    claim.metadata!.annotations[SELECTED_NODE_ANNOTATION] = nodeName;
    try {
      const written = await this.opts.store.update('PersistentVolumeClaim', claim, { current: cached });
      this.log.debug({ claim: objectKey(written), node: nodeName }, 'selected node for claim');
      return undefined; // claims are another cache: the pod batch need not wait for it
    } catch (e) {
      if (isApiError(e, 'Conflict') || isApiError(e, 'NotFound')) return undefined;
      throw e;
    }
  }

  /** Nodes, the pending pods, the per-node loads kept from events, and the volume objects. */
  private snapshot(pods: Pod[]): Snapshot {
    const { informers } = this.opts;
    const byKey = <T extends { metadata?: { name: string; namespace: string } }>(xs: T[]): Map<string, T> =>
      new Map(xs.map((x) => [x.metadata?.namespace ? `${x.metadata.namespace}/${x.metadata.name}` : (x.metadata?.name ?? ''), x]));
    return {
      nodes: informers.get('Node').list(),
      pods,
      loads: this.feedLoads(),
      volumes: {
        claims: byKey(informers.get('PersistentVolumeClaim').list()),
        volumes: byKey(informers.get('PersistentVolume').list()),
        classes: byKey(informers.get('StorageClass').list()),
      },
    };
  }

  private async markUnschedulable(cached: Pod, message: string): Promise<number | undefined> {
    const current = findCondition(cached.status?.conditions, 'PodScheduled');
    if (current?.status === 'False' && current.reason === 'Unschedulable' && current.message === message) return undefined;
    const pod = Pod.fromPartial(cached);
    pod.status ??= PodStatus.fromPartial({ phase: 'Pending' });
    setCondition(pod.status.conditions, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }, this.clock.now());
    try {
      const written = await this.opts.store.update('Pod', pod, { current: cached });
      this.opts.recorder.record(written, 'Warning', 'FailedScheduling', message);
      return Number(written.metadata?.resourceVersion);
    } catch (e) {
      if (isApiError(e, 'Conflict') || isApiError(e, 'NotFound')) return undefined;
      throw e;
    }
  }

  /** For tests: schedule once and report the plan (no writes). */
  plan(): ScheduleResult {
    const pending = this.opts.informers.get('Pod').list().filter(isPending);
    return schedule(this.snapshot(pending), pending);
  }
}

/** Node changes that can change a scheduling decision (not heartbeats). */
function nodeChanged(old: Node, n: Node): boolean {
  const ready = (x: Node): string => findCondition(x.status?.conditions, 'Ready')?.status ?? '';
  return (
    ready(old) !== ready(n) ||
    JSON.stringify([old.spec, old.status?.allocatable, old.metadata?.labels]) !==
      JSON.stringify([n.spec, n.status?.allocatable, n.metadata?.labels])
  );
}
