// The volume binding controller (Kubernetes' PV controller with the local-path provisioner
// built in): claim and volume keys from the informer caches, syncClaim/syncVolume (decide.ts)
// over a snapshot, the writes at the edge. Claims of the local-path class wait for the
// scheduler to name a node (volume.kubernetes.io/selected-node); a claim being deleted keeps
// its pvc-protection finalizer until no unfinished pod uses it.
import { isApiError } from '../../../proto/api/errors.js';
import { objectKey } from '../../../proto/api/kinds.js';
import { SELECTED_NODE_ANNOTATION } from '../../../proto/api/storage.js';
import type { Clock } from '../../../proto/api/clock.js';
import type { Node, Pod } from '../../../proto/gen/skiff/v1/core.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../../proto/gen/skiff/v1/storage.js';
import type { SharedInformers } from '../../informers.js';
import type { Informer } from '../../storage/informer.js';
import type { ControllerClient } from '../client.js';
import type { EventRecorder } from '../events.js';
import { Controller, type Result } from '../runtime/controller.js';
import type { Logger } from '../runtime/log.js';
import { syncClaim, syncVolume, type Plan, type Snapshot, type Write } from './decide.js';

export interface VolumeBindingDeps {
  informers: SharedInformers;
  client: ControllerClient;
  recorder: EventRecorder;
  clock?: Clock;
  log?: Logger;
}

const CLAIM = 'claim:';
const VOLUME = 'volume:';

export class VolumeBindingController {
  private readonly handlerRemovers: (() => void)[] = [];
  readonly runner: Controller;
  private readonly claims: Informer<'PersistentVolumeClaim'>;
  private readonly volumes: Informer<'PersistentVolume'>;
  private readonly classes: Informer<'StorageClass'>;
  private readonly nodes: Informer<'Node'>;
  private readonly pods: Informer<'Pod'>;

  constructor(private readonly d: VolumeBindingDeps) {
    this.claims = d.informers.get('PersistentVolumeClaim');
    this.volumes = d.informers.get('PersistentVolume');
    this.classes = d.informers.get('StorageClass');
    this.nodes = d.informers.get('Node');
    this.pods = d.informers.get('Pod');
    this.runner = new Controller({ name: 'volumebinding', workers: 2, clock: d.clock, log: d.log, reconcile: (key) => this.sync(key) });
  }

  async start(): Promise<void> {
    const claimKey = (ns: string, name: string): string => `${CLAIM}${ns}/${name}`;
    const onClaim = (c: PersistentVolumeClaim): void => {
      this.runner.enqueue(CLAIM + objectKey(c));
      if (c.spec?.volumeName) this.runner.enqueue(VOLUME + c.spec.volumeName);
      // A claim gone (or re-created under its name) releases the volumes that named it.
      for (const pv of this.volumes.list()) {
        const r = pv.spec?.claimRef;
        if (r && r.namespace === c.metadata?.namespace && r.name === c.metadata.name) this.runner.enqueue(VOLUME + (pv.metadata?.name ?? ''));
      }
    };
    const onVolume = (pv: PersistentVolume): void => {
      this.runner.enqueue(VOLUME + (pv.metadata?.name ?? ''));
      const r = pv.spec?.claimRef;
      if (r) this.runner.enqueue(claimKey(r.namespace, r.name));
      // A volume that became free may be what an unbound claim waits for.
      if (!r) for (const c of this.claims.list()) if (!c.spec?.volumeName) this.runner.enqueue(CLAIM + objectKey(c));
    };
    const onPod = (p: Pod): void => {
      for (const v of p.spec?.volumes ?? []) {
        if (v.persistentVolumeClaim) this.runner.enqueue(claimKey(p.metadata?.namespace ?? '', v.persistentVolumeClaim.claimName));
      }
    };
    const onNode = (n: Node): void => {
      const name = n.metadata?.name ?? '';
      for (const c of this.claims.list()) {
        if (!c.spec?.volumeName && c.metadata?.annotations[SELECTED_NODE_ANNOTATION] === name) this.runner.enqueue(CLAIM + objectKey(c));
      }
    };
    const allUnbound = (): void => {
      for (const c of this.claims.list()) if (!c.spec?.volumeName) this.runner.enqueue(CLAIM + objectKey(c));
    };
    this.handlerRemovers.push(
      this.claims.addHandlers({ onAdd: onClaim, onUpdate: (_o, c) => onClaim(c), onDelete: onClaim }),
      this.volumes.addHandlers({ onAdd: onVolume, onUpdate: (_o, pv) => onVolume(pv), onDelete: onVolume }),
      this.classes.addHandlers({ onAdd: allUnbound, onUpdate: allUnbound, onDelete: allUnbound }),
      this.nodes.addHandlers({
        onAdd: onNode,
        onUpdate: (old, n) => {
          if (JSON.stringify(old.metadata?.annotations) !== JSON.stringify(n.metadata?.annotations)) onNode(n);
        },
        onDelete: onNode,
      }),
      this.pods.addHandlers({
        onAdd: onPod,
        onUpdate: (old, p) => {
          if (old.status?.phase !== p.status?.phase) onPod(p);
        },
        onDelete: onPod,
      }),
    );
    await this.d.informers.start(['PersistentVolumeClaim', 'PersistentVolume', 'StorageClass', 'Node', 'Pod']);
    this.runner.start();
  }

  async stop(): Promise<void> {
    for (const remove of this.handlerRemovers.splice(0)) remove();
    await this.runner.stop();
  }

  private snapshot(): Snapshot {
    const byKey = <T extends PersistentVolumeClaim | PersistentVolume>(xs: T[]): Map<string, T> => new Map(xs.map((x) => [objectKey(x), x]));
    return {
      claims: byKey(this.claims.list()),
      volumes: byKey(this.volumes.list()),
      classes: new Map(this.classes.list().map((s) => [s.metadata?.name ?? '', s])),
      nodes: new Map(this.nodes.list().map((n) => [n.metadata?.name ?? '', n])),
      pods: this.pods.list(),
    };
  }

  private async sync(key: string): Promise<Result | void> {
    let p: Plan;
    if (key.startsWith(CLAIM)) {
      const claim = this.claims.get(key.slice(CLAIM.length));
      if (!claim) return;
      p = syncClaim(claim, this.snapshot());
    } else {
      const pv = this.volumes.get(key.slice(VOLUME.length));
      if (!pv) return;
      p = syncVolume(pv, this.snapshot());
    }
    for (const e of p.events) this.d.recorder.record(e.object, e.type, e.reason, e.message);
    for (const w of p.writes) {
      try {
        await this.write(w);
      } catch (e) {
        // A stale cache: the next event for the key (our own write's, or the newer one) looks again.
        if (isApiError(e, 'Conflict') || isApiError(e, 'NotFound') || isApiError(e, 'AlreadyExists')) return { requeueAfterMs: 100 };
        throw e;
      }
    }
  }

  private async write(w: Write): Promise<void> {
    const c = this.d.client;
    switch (w.op) {
      case 'createVolume':
        await c.create('PersistentVolume', w.object);
        return;
      case 'updateVolume':
      case 'updateClaim': {
        const kind = w.op === 'updateVolume' ? 'PersistentVolume' : 'PersistentVolumeClaim';
        const m = w.object.metadata!;
        // The store does not remove an object whose last finalizer goes: delete it then.
        if (kind === 'PersistentVolume') await c.update('PersistentVolume', w.object as PersistentVolume);
        else await c.update('PersistentVolumeClaim', w.object as PersistentVolumeClaim);
        if (m.deletionTimestamp && m.finalizers.length === 0) await c.delete(kind, m.namespace, m.name, { preconditions: { uid: m.uid } });
        return;
      }
      case 'volumeStatus':
        await c.updateStatus('PersistentVolume', { ...w.object, status: w.status });
        return;
      case 'claimStatus':
        await c.updateStatus('PersistentVolumeClaim', { ...w.object, status: w.status });
        return;
      case 'deleteVolume': {
        const m = w.object.metadata!;
        await c.delete('PersistentVolume', '', m.name, { preconditions: { uid: m.uid } });
        return;
      }
    }
  }
}
