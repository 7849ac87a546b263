// Records every watch event of pods and Deployments straight from etcd (all three members, not
// through any proxy), resuming from the last revision seen when a stream breaks, so the history
// is complete whatever the faults do to the control planes.
import { newEtcdClient } from '../../control-plane/storage/etcd-client.js';
import { Store } from '../../control-plane/storage/store.js';
import type { StoreWatch } from '../../control-plane/storage/watch.js';
import type { Deployment } from '../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import type { History } from './history.js';
import { resolveFenceposts } from '../../control-plane/controllers/deployment/util.js';

export class Recorder {
  private readonly store: Store;
  private readonly watches = new Set<{ close(): Promise<void> }>();
  private closed = false;

  constructor(
    endpoints: string[],
    private readonly h: History,
    private readonly t0: number,
  ) {
    this.store = new Store(newEtcdClient(endpoints), {});
  }

  async start(): Promise<void> {
    const rev = await this.store.currentRevision();
    this.watchPods(rev);
    this.watchDeployments(rev);
    this.watchLeases(rev);
    this.watchNodes(rev);
  }

  private now(): number {
    return Date.now() - this.t0;
  }

  private resume(last: number, again: (rev: number) => void): void {
    if (this.closed) return;
    this.h.watchRestarts++;
    setTimeout(() => again(last), 200);
  }

  private track(w: { close(): Promise<void> }): void {
    this.watches.add(w);
  }

  private watchPods(after: number): void {
    let last = after;
    const w: StoreWatch<'Pod'> = this.store.watch('Pod', {
      afterRevision: after,
      onEvent: ({ type, object: p, revision }: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Pod; revision: number }) => {
        last = revision;
        const app = p.metadata?.labels?.chaos;
        if (!app) return;
        this.h.pods.push({
          t: this.now(), revision, type, uid: p.metadata!.uid, name: p.metadata!.name, app,
          nodeName: p.spec?.nodeName ?? '',
          ready: p.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
          terminating: Boolean(p.metadata?.deletionTimestamp),
        });
      },
      onError: () => {
        this.watches.delete(w);
        void w.close().catch(() => undefined);
        this.resume(last, (r) => this.watchPods(r));
      },
    });
    this.track(w);
  }

  private watchDeployments(after: number): void {
    let last = after;
    const w: StoreWatch<'Deployment'> = this.store.watch('Deployment', {
      afterRevision: after,
      onEvent: ({ type, object: d, revision }: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Deployment; revision: number }) => {
        last = revision;
        const replicas = d.spec?.replicas ?? 1;
        const ru = d.spec?.strategy?.rollingUpdate;
        const { surge, unavailable } = resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicas);
        this.h.deployments.push({ t: this.now(), revision, type, name: d.metadata!.name, replicas, maxSurge: surge, maxUnavailable: unavailable });
      },
      onError: () => {
        this.watches.delete(w);
        void w.close().catch(() => undefined);
        this.resume(last, (r) => this.watchDeployments(r));
      },
    });
    this.track(w);
  }

  private watchLeases(after: number): void {
    let last = after;
    const renew = new Map<string, string>();
    const w: StoreWatch<'Lease'> = this.store.watch('Lease', {
      namespace: 'kube-node-lease',
      afterRevision: after,
      onEvent: ({ object: l, revision }) => {
        last = revision;
        const node = l.metadata?.name ?? '';
        const value = l.spec?.renewTime ?? '';
        if (renew.get(node) === value) return;
        renew.set(node, value);
        this.h.nodes.push({ t: this.now(), revision, node, what: 'lease', value });
      },
      onError: () => {
        this.watches.delete(w);
        void w.close().catch(() => undefined);
        this.resume(last, (r) => this.watchLeases(r));
      },
    });
    this.track(w);
  }

  private watchNodes(after: number): void {
    let last = after;
    const ready = new Map<string, string>();
    const w: StoreWatch<'Node'> = this.store.watch('Node', {
      afterRevision: after,
      onEvent: ({ object: n, revision }) => {
        last = revision;
        const node = n.metadata?.name ?? '';
        const c = n.status?.conditions.find((x) => x.type === 'Ready');
        const value = `${c?.status ?? ''}/${c?.reason ?? ''}`;
        if (ready.get(node) === value) return;
        ready.set(node, value);
        this.h.nodes.push({ t: this.now(), revision, node, what: 'ready', value });
      },
      onError: () => {
        this.watches.delete(w);
        void w.close().catch(() => undefined);
        this.resume(last, (r) => this.watchNodes(r));
      },
    });
    this.track(w);
  }

  async stop(): Promise<void> {
    this.closed = true;
    for (const w of this.watches) await w.close().catch(() => undefined);
    this.store.client.close();
  }
}
