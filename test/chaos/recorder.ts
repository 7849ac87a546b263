// Records every watch event of pods and Deployments straight from etcd (all three members, not
// through any proxy), resuming from the last revision seen when a stream breaks, so the history
// is complete whatever the faults do to the control planes.
import { newEtcdClient } from '../../control-plane/storage/etcd-client.js';
import { Store } from '../../control-plane/storage/store.js';
import type { StoreWatch } from '../../control-plane/storage/watch.js';
import type { Deployment } from '../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import type { History } from './history.js';
import type { IKeyValue } from 'etcd3';
import { DISK_PRESSURE_TAINT_KEY } from '../../control-plane/controllers/nodelifecycle/decide.js';
import { resolveFenceposts } from '../../control-plane/controllers/deployment/util.js';

/** The control planes' --etcd-prefix (their default). */
const ELECTION_PREFIX = '/skiff';

function holderOf(raw: string): string {
  try {
    return (JSON.parse(raw) as { holderIdentity?: string }).holderIdentity ?? '';
  } catch {
    return raw;
  }
}

export class Recorder {
  private readonly store: Store;
  private readonly watches = new Set<{ close(): Promise<void> }>();
  private closed = false;

  constructor(
    endpoints: string[],
    private readonly h: History,
    private readonly t0: number,
    /** The control planes' identities: Events they create are controller writes (agents' Events name their node). */
    private readonly controlPlanes: readonly string[] = [],
  ) {
    this.store = new Store(newEtcdClient(endpoints), {});
  }

  async start(): Promise<void> {
    const rev = await this.store.currentRevision();
    this.watchPods(rev);
    this.watchDeployments(rev);
    this.watchLeases(rev);
    this.watchNodes(rev);
    this.watchEvents(rev);
    await this.watchTerms(rev);
  }

  /** The election key: its state at rev, then every put and delete after it. */
  private async watchTerms(rev: number): Promise<void> {
    const key = `${ELECTION_PREFIX}/leader-election/controller-manager`;
    const term = (kv: IKeyValue, revision: number): void => {
      this.h.terms.push({ revision, type: 'put', identity: holderOf(kv.value.toString()), createRevision: Number(kv.create_revision) });
    };
    const now = await this.store.client.get(key).revision(String(rev)).exec();
    const kv0 = now.kvs[0];
    if (kv0) term(kv0, Number(kv0.mod_revision));
    const w = await this.store.client.watch().key(key).startRevision(String(rev + 1)).create();
    w.on('put', (kv) => term(kv, Number(kv.mod_revision)));
    // A delete event's kv carries the revision of the delete as its mod_revision.
    w.on('delete', (kv) => this.h.terms.push({ revision: Number(kv.mod_revision), type: 'delete' }));
    // etcd3 reconnects this watcher by itself; an error here is only worth counting.
    w.on('error', () => this.h.watchRestarts++);
    this.track({ close: () => w.cancel() });
  }

  /** Events created by controllers: each is a fenced write naming the leader that made it. */
  private watchEvents(after: number): void {
    let last = after;
    const w: StoreWatch<'Event'> = this.store.watch('Event', {
      afterRevision: after,
      onEvent: ({ type, object: ev, revision }) => {
        last = revision;
        const identity = ev.source?.host ?? '';
        if (type !== 'ADDED' || !this.controlPlanes.includes(identity)) return;
        this.h.controllerWrites.push({ t: this.now(), revision, identity, reason: ev.reason });
      },
      onError: () => {
        this.watches.delete(w);
        void w.close().catch(() => undefined);
        this.resume(last, (r) => this.watchEvents(r));
      },
    });
    this.track(w);
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
          restarts: (p.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0),
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
    const disk = new Map<string, string>();
    const w: StoreWatch<'Node'> = this.store.watch('Node', {
      afterRevision: after,
      onEvent: ({ object: n, revision }) => {
        last = revision;
        const node = n.metadata?.name ?? '';
        const c = n.status?.conditions.find((x) => x.type === 'Ready');
        const value = `${c?.status ?? ''}/${c?.reason ?? ''}`;
        if (ready.get(node) !== value) {
          ready.set(node, value);
          this.h.nodes.push({ t: this.now(), revision, node, what: 'ready', value });
        }
        const dp = n.status?.conditions.find((x) => x.type === 'DiskPressure')?.status ?? '';
        const tainted = n.spec?.taints.some((x) => x.key === DISK_PRESSURE_TAINT_KEY) ?? false;
        const diskValue = `${dp}/${tainted}`;
        if (disk.get(node) !== diskValue) {
          disk.set(node, diskValue);
          this.h.nodes.push({ t: this.now(), revision, node, what: 'disk', value: diskValue });
        }
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
