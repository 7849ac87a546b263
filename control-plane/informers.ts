// One informer per kind for the whole control-plane process: the API server's list/watch and
// every controller read from the same caches, so each kind is listed and watched from etcd once.
import type { Kind } from '../proto/api/kinds.js';
import { Informer, type InformerOptions } from './storage/informer.js';
import type { Store } from './storage/store.js';

export class SharedInformers {
  private readonly informers = new Map<Kind, Informer<Kind>>();

  constructor(
    readonly store: Store,
    private readonly opts: InformerOptions = {},
  ) {}

  /** The informer of a kind, created (not started) on first use. */
  get<K extends Kind>(kind: K): Informer<K> {
    let inf = this.informers.get(kind);
    if (!inf) {
      inf = new Informer(this.store, kind, this.opts) as unknown as Informer<Kind>;
      this.informers.set(kind, inf);
    }
    return inf as unknown as Informer<K>;
  }

  /** The informer of a kind if one exists (started or not); never creates one. */
  peek<K extends Kind>(kind: K): Informer<K> | undefined {
    return this.informers.get(kind) as unknown as Informer<K> | undefined;
  }

  /** Starts the informers of these kinds and resolves once all have synced. */
  async start(kinds: readonly Kind[]): Promise<void> {
    await Promise.all(kinds.map((k) => this.get(k).start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
