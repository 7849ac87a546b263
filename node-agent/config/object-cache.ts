// The ConfigMaps and Secrets this node's pods refer to, kept current the kubelet's "Watch" way:
// one list+watch per referenced object (field selector on its namespace and name), started
// when the first pod refers to it and stopped when the last one goes, so the node never
// reads objects its pods do not use. Changes are reported so the pods that use the object
// re-sync (volumes refresh, waiting containers start).
import type { Logger } from 'pino';
import { isApiError } from '../../proto/api/errors.js';
import type { ConfigMap, Secret } from '../../proto/gen/skiff/v1/config.js';
import type { Clock } from '../../proto/api/clock.js';
import type { AgentApi } from '../api-client.js';
import { ListWatch } from '../list-watch.js';
import { refKey, type ConfigRef, type ConfigSnapshot } from './snapshot.js';

interface Entry {
  ref: ConfigRef;
  lw: ListWatch<'ConfigMap'> | ListWatch<'Secret'>;
  users: Set<string>;
  value: ConfigMap | Secret | undefined;
  synced: boolean;
}

export class ConfigObjectCache {
  private readonly entries = new Map<string, Entry>();
  private readonly byUser = new Map<string, Set<string>>();

  constructor(
    private readonly api: AgentApi,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly onChange: (ref: ConfigRef) => void,
  ) {}

  /** Sets the objects one pod (uid) uses: watches start for new ones, stop for ones nobody uses. */
  use(uid: string, refs: readonly ConfigRef[]): void {
    const next = new Set(refs.map(refKey));
    const prev = this.byUser.get(uid) ?? new Set<string>();
    for (const r of refs) {
      const k = refKey(r);
      if (prev.has(k)) continue;
      let e = this.entries.get(k);
      if (!e) e = this.start(r);
      e.users.add(uid);
    }
    for (const k of prev) if (!next.has(k)) this.drop(uid, k);
    this.byUser.set(uid, next);
  }

  release(uid: string): void {
    for (const k of this.byUser.get(uid) ?? []) this.drop(uid, k);
    this.byUser.delete(uid);
  }

  /** The objects as of now: from the watch once it has listed, else read directly. */
  async snapshot(refs: readonly ConfigRef[]): Promise<ConfigSnapshot> {
    const configMaps = new Map<string, ConfigMap>();
    const secrets = new Map<string, Secret>();
    await Promise.all(refs.map(async (r) => {
      const e = this.entries.get(refKey(r));
      let v = e?.synced ? e.value : undefined;
      if (!e?.synced) {
        try {
          v = await this.api.get(r.kind, r.namespace, r.name);
        } catch (err) {
          if (!isApiError(err, 'NotFound')) throw err;
        }
      }
      if (!v) return;
      if (r.kind === 'ConfigMap') configMaps.set(r.name, v as ConfigMap);
      else secrets.set(r.name, v as Secret);
    }));
    return { configMaps, secrets };
  }

  async stop(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.lw.stop()));
    this.entries.clear();
  }

  private start(ref: ConfigRef): Entry {
    const e = { ref, users: new Set<string>(), value: undefined, synced: false } as unknown as Entry;
    const set = (v: ConfigMap | Secret | undefined): void => {
      const before = e.value?.metadata?.resourceVersion;
      e.value = v;
      e.synced = true;
      if (before !== v?.metadata?.resourceVersion) this.onChange(ref);
    };
    const fieldSelector = `metadata.namespace=${ref.namespace},metadata.name=${ref.name}`;
    const handlers = {
      onList: (items: (ConfigMap | Secret)[]) => set(items[0]),
      onUpsert: (o: ConfigMap | Secret) => set(o),
      onDelete: () => set(undefined),
    };
    const log = this.log.child({ component: 'config-watch', object: refKey(ref) });
    e.lw = ref.kind === 'ConfigMap'
      ? new ListWatch(this.api, { kind: 'ConfigMap', fieldSelector, what: 'configmap' }, this.clock, log, handlers)
      : new ListWatch(this.api, { kind: 'Secret', fieldSelector, what: 'secret' }, this.clock, log, handlers);
    this.entries.set(refKey(ref), e);
    e.lw.start();
    return e;
  }

  private drop(uid: string, k: string): void {
    const e = this.entries.get(k);
    if (!e) return;
    e.users.delete(uid);
    if (e.users.size > 0) return;
    this.entries.delete(k);
    e.lw.stop().catch((err: unknown) => this.log.warn({ err: String(err), object: k }, 'stopping a config watch failed'));
  }
}
