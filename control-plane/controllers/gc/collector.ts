// The garbage collector: keeps ownerReferences true. It watches every kind that can own or be
// owned, and works on keys obj|<Kind>|<ns/name>: an object to check as a dependent (are its
// owners still there?) and, when it is being deleted with a GC finalizer, as an owner
// (graph.ts). Events are not its business: they expire through their etcd lease (Store).
// The caches can lag each other (a new ReplicaSet's pods may be seen before the ReplicaSet),
// so an owner the cache does not know is looked up live before anything is deleted.
import { isApiError } from '../../../proto/api/errors.js';
import { KINDS, metaOf, objectKey, type AnyObject, type Kind } from '../../../proto/api/kinds.js';
import type { OwnerReference } from '../../../proto/gen/skiff/v1/meta.js';
import type { SharedInformers } from '../../informers.js';
import type { Store } from '../../storage/store.js';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER, type ControllerClient } from '../client.js';
import { realClock, type Clock } from '../../../proto/api/clock.js';
import { Controller, type Result } from '../runtime/controller.js';
import { BY_OWNER_UID, ownerUidIndex } from '../runtime/indexes.js';
import { rootLogger, type Logger } from '../runtime/log.js';
import { dependentAction, isDependentOf, ownerAction, type OwnerState } from './graph.js';

/** Kinds that own or are owned in Skiff (node Leases may be owned by their Node). */
export const GC_KINDS: readonly Kind[] = ['Deployment', 'ReplicaSet', 'Pod', 'Node', 'Lease', 'Service', 'EndpointSlice'];
/** Kinds that own other objects in Skiff (a Service owns its EndpointSlices; pods and leases own nothing). */
const CAN_OWN: readonly Kind[] = ['Deployment', 'ReplicaSet', 'Node', 'Service'];
const BY_UID = 'uid';
const uidIndex = (o: AnyObject): string[] => [o.metadata?.uid ?? ''];

export interface GarbageCollectorOptions {
  store: Store;
  client: ControllerClient;
  informers: SharedInformers;
  clock?: Clock;
  log?: Logger;
}

function isGcKind(k: string): k is Kind {
  return (GC_KINDS as readonly string[]).includes(k);
}

export class GarbageCollector {
  // Removed on stop: informers outlive a leadership term, these controllers do not.
  private readonly handlerRemovers: (() => void)[] = [];
  readonly controller: Controller;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly opts: GarbageCollectorOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = (opts.log ?? rootLogger).child({ controller: 'garbage-collector' });
    this.controller = new Controller({
      name: 'garbage-collector',
      workers: 2,
      reconcile: (key) => this.reconcile(key),
      clock: this.clock,
      log: opts.log,
    });
  }

  async start(): Promise<void> {
    const { informers } = this.opts;
    for (const kind of GC_KINDS) {
      const inf = informers.get(kind);
      inf.addIndex(BY_UID, uidIndex);
      inf.addIndex(BY_OWNER_UID, ownerUidIndex);
      this.handlerRemovers.push(inf.addHandlers({
        onAdd: (o) => this.objectChanged(kind, o),
        onUpdate: (_old, o) => this.objectChanged(kind, o),
        onDelete: (o) => this.objectDeleted(o),
      }));
    }
    await informers.start(GC_KINDS);
    this.controller.start();
  }

  stop(): Promise<void> {
    for (const remove of this.handlerRemovers.splice(0)) remove();
    return this.controller.stop();
  }

  private objectChanged(kind: Kind, o: AnyObject): void {
    const m = o.metadata;
    if (!m) return;
    const owner = m.deletionTimestamp && (m.finalizers.includes(ORPHAN_FINALIZER) || m.finalizers.includes(FOREGROUND_FINALIZER));
    if (owner || m.ownerReferences.length) this.controller.enqueue(`obj|${kind}|${objectKey(o)}`);
  }

  /** An object went away: its dependents may be orphans now, and owners waiting on it may finish. */
  private objectDeleted(o: AnyObject): void {
    const m = o.metadata;
    if (!m) return;
    for (const d of this.dependentsInCache(m.uid)) this.controller.enqueue(`obj|${d.kind}|${objectKey(d.object)}`);
    for (const r of m.ownerReferences) {
      if (!isGcKind(r.kind)) continue;
      const ns = KINDS[r.kind].namespaced ? m.namespace : '';
      this.controller.enqueue(`obj|${r.kind}|${ns ? `${ns}/` : ''}${r.name}`);
    }
  }

  private dependentsInCache(uid: string): { kind: Kind; object: AnyObject }[] {
    if (!uid) return [];
    return GC_KINDS.flatMap((kind) => this.opts.informers.get(kind).byIndex(BY_OWNER_UID, uid).map((object) => ({ kind, object })));
  }

  async reconcile(key: string): Promise<Result> {
    const [type, a, b] = key.split('|');
    if (type === 'obj' && a && b && isGcKind(a)) await this.syncObject(a, b);
    return {};
  }

  private async syncObject(kind: Kind, key: string): Promise<void> {
    const obj = this.opts.informers.get(kind).get(key);
    if (!obj) return;
    if (obj.metadata?.deletionTimestamp) {
      await this.syncOwner(kind, obj);
      return;
    }
    await this.syncDependent(kind, obj);
  }

  private async syncDependent(kind: Kind, obj: AnyObject): Promise<void> {
    const m = metaOf(obj);
    const states = new Map<string, OwnerState>();
    for (const r of m.ownerReferences) states.set(r.uid, await this.ownerState(r, m.namespace));
    const action = dependentAction(obj, (r) => states.get(r.uid) ?? 'present');
    if (action.type === 'delete') {
      this.log.info({ kind, object: objectKey(obj) }, 'deleting dependent: all its owners are gone');
      await this.ignoreGone(
        this.opts.client.delete(kind, m.namespace, m.name, { preconditions: { uid: m.uid }, propagationPolicy: 'Background' }),
      );
    } else if (action.type === 'removeOwnerRefs') {
      await this.removeOwnerRefs(kind, obj, action.uids);
    }
  }

  /** Present in the cache, or else confirmed absent by a live read. */
  private async ownerState(ref: OwnerReference, namespace: string): Promise<OwnerState> {
    if (!Object.hasOwn(KINDS, ref.kind)) return 'present'; // a kind we do not serve: never guess
    const kind = ref.kind as Kind;
    if (isGcKind(kind) && this.opts.informers.get(kind).byIndex(BY_UID, ref.uid).length) return 'present';
    const ns = KINDS[kind].namespaced ? namespace : '';
    try {
      const live = await this.opts.client.get(kind, ns, ref.name);
      return live.metadata?.uid === ref.uid ? 'present' : 'absent';
    } catch (e) {
      if (isApiError(e, 'NotFound')) return 'absent';
      throw e;
    }
  }

  private async syncOwner(kind: Kind, owner: AnyObject): Promise<void> {
    const m = metaOf(owner);
    if (ownerAction(owner, []).type === 'none') return;
    // Live, not cached: a lagging cache could hide a dependent, which would then keep a
    // reference to a deleted owner (orphan) or outlive it (foreground).
    const dependents = await this.liveDependents(m.uid, m.namespace);
    const action = ownerAction(owner, dependents.map((d) => d.object));
    const kindOf = new Map(dependents.map((d) => [d.object, d.kind]));
    switch (action.type) {
      case 'none':
        return;
      case 'orphan':
        for (const d of action.dependents) await this.removeOwnerRefs(kindOf.get(d)!, d, [m.uid]);
        await this.removeFinalizer(kind, owner, ORPHAN_FINALIZER);
        return;
      case 'deleteDependents':
        for (const d of action.dependents) {
          const dk = kindOf.get(d)!;
          const dm = metaOf(d);
          // Depth first: a dependent of a kind that owns things is itself deleted in
          // foreground. Decided by kind, not by the cache, which may not show its dependents yet.
          const policy = CAN_OWN.includes(dk) ? 'Foreground' : 'Background';
          await this.ignoreGone(this.opts.client.delete(dk, dm.namespace, dm.name, { preconditions: { uid: dm.uid }, propagationPolicy: policy }));
        }
        return;
      case 'removeFinalizer':
        await this.removeFinalizer(kind, owner, action.finalizer);
        return;
    }
  }

  private async liveDependents(uid: string, namespace: string): Promise<{ kind: Kind; object: AnyObject }[]> {
    const out: { kind: Kind; object: AnyObject }[] = [];
    for (const kind of GC_KINDS) {
      const ns = KINDS[kind].namespaced ? namespace : '';
      const { items } = await this.opts.store.list(kind, { namespace: ns });
      for (const object of items as AnyObject[]) if (isDependentOf(object, uid)) out.push({ kind, object });
    }
    return out;
  }

  private async removeOwnerRefs(kind: Kind, obj: AnyObject, uids: string[]): Promise<void> {
    const m = metaOf(obj);
    await this.ignoreGone(
      this.opts.client.patch(
        kind,
        m.namespace,
        m.name,
        (cur) => {
          const cm = metaOf(cur);
          const kept = cm.ownerReferences.filter((r) => !uids.includes(r.uid));
          if (kept.length === cm.ownerReferences.length) return undefined;
          cm.ownerReferences = kept;
          return cur;
        },
        { uid: m.uid },
      ),
    );
  }

  /** Removes a GC finalizer; an object left with none and a deletionTimestamp is then removed. */
  private async removeFinalizer(kind: Kind, owner: AnyObject, finalizer: string): Promise<void> {
    const m = metaOf(owner);
    let remaining = 0;
    const updated = await this.ignoreGone(
      this.opts.client.patch(
        kind,
        m.namespace,
        m.name,
        (cur) => {
          const cm = metaOf(cur);
          cm.finalizers = cm.finalizers.filter((f) => f !== finalizer);
          remaining = cm.finalizers.length;
          return cur;
        },
        { uid: m.uid },
      ),
    );
    if (updated === undefined || remaining > 0) return;
    this.log.info({ kind, object: objectKey(owner), finalizer }, 'dependents handled; removing owner');
    await this.ignoreGone(this.opts.client.delete(kind, m.namespace, m.name, { preconditions: { uid: m.uid } }));
  }

  /** NotFound or a changed uid means someone else already finished the job. */
  private async ignoreGone<T>(p: Promise<T>): Promise<T | undefined> {
    try {
      return await p;
    } catch (e) {
      if (isApiError(e, 'NotFound') || (isApiError(e, 'Conflict') && /uid/.test(e.message))) return undefined;
      throw e;
    }
  }
}
