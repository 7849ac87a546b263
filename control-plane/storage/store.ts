// Typed object storage over etcd. Objects are stored as protobuf bytes of their generated
// message; resourceVersion is never stored but set from the key's mod_revision on read, so
// every update is a compare-and-swap on it (Conflict otherwise), as in Kubernetes.
import { randomUUID } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import type { IRequestOp } from 'etcd3';
import { ApiError, cause, errors } from '../../proto/api/errors.js';
import { KINDS, metaOf, type AnyObject, type Kind, type KindInfo, type KindMap } from '../../proto/api/kinds.js';
import { canonicalEqual } from './canonical.js';
import type { ValueTransformer } from './encryption.js';
import { fromEtcdError, tooLargeForTxn } from './etcd-errors.js';
import { fieldsMatch, parseFieldSelector, type FieldRequirement } from './fields.js';
import { commitGuarded, type GuardedOp } from './guarded-txn.js';
import type { Fence } from './fence.js';
import { KeyLayout } from './keys.js';
import { matches, parseLabelSelector, type Requirement } from './labels.js';
import { LeaseManager } from './lease-manager.js';
import { hasReservations, reservationDiff, reservationsOf, takenMessage, type Reservation } from './reservations.js';
import { TxnBatcher, type TxnOp, type TxnOutcome } from './txn-batcher.js';
import { StoreWatch, type WatchOptions } from './watch.js';

/** Largest stored object: etcd's default --max-request-bytes (1.5 MiB) less room for the key and the transaction around it. */
export const MAX_OBJECT_BYTES = 1536 * 1024 - 8 * 1024;

export interface ListOptions {
  namespace?: string;
  labelSelector?: string | Requirement[];
  fieldSelector?: string | FieldRequirement[];
  /** Read at this etcd revision (a continued list's snapshot); unset: the latest. */
  revision?: number;
}

export interface ListResult<T> {
  items: T[];
  /** etcd revision the list was read at. */
  revision: number;
}

export interface StoreOptions {
  prefix?: string;
  /** Deadline for each unary etcd call; past it the call fails with Unavailable. */
  requestTimeoutMs?: number;
  now?: () => Date;
  /**
   * Events expire this long after their last write (kube-apiserver's --event-ttl, 1 h by
   * default): they are written with an etcd lease. 0 keeps them until deleted.
   */
  eventTtlSeconds?: number;
  /** How long one event lease is handed out (kube-apiserver: 60 s); tests shorten it. */
  eventLeaseReuseSeconds?: number;
  /** Encrypts Secret values at rest (--encryption-key-file); absent: stored as plain protobuf. */
  encryption?: ValueTransformer;
}

/** Kinds whose stored values go through the encryption transformer (kube-apiserver's default set). */
const ENCRYPTED_KINDS: ReadonlySet<Kind> = new Set<Kind>(['Secret']);

export const DEFAULT_EVENT_TTL_SECONDS = 3600;

export interface TxnWrite {
  kind: Kind;
  object: AnyObject;
  /** create: the name must be free; update: CAS on object.metadata.resourceVersion. */
  op: 'create' | 'update';
  /** update of a kind with reservations (Services): the stored object, to know what it releases. */
  current?: AnyObject;
}

/**
 * A write found a value it reserves (a ClusterIP, a NodePort) held by another object. Invalid,
 * with one cause per taken value; the allocator re-picks values it chose itself.
 */
export class ReservationTakenError extends ApiError {
  constructor(
    kind: string,
    name: string,
    readonly taken: Reservation[],
  ) {
    const causes = taken.map((r) => ({ field: r.field, message: takenMessage(r), source: '' }));
    super('Invalid', errors.invalid(kind, name, causes).message, causes, kind, name);
  }
}

const PAGE = 1000;

function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export interface UpdateOptions<T> {
  /**
   * The stored object as of metadata.resourceVersion, when the caller already has it (a cache
   * entry with that resourceVersion is exactly what etcd holds at that revision): saves the read.
   */
  current?: T;
}

export class Store {
  readonly keys: KeyLayout;
  private readonly timeoutMs: number;
  private readonly now: () => Date;
  /** Single-object writes go through here (group commit); transact() does not. */
  readonly batcher: TxnBatcher;
  /** Leases for expiring kinds (Events); undefined when they do not expire. */
  readonly eventLeases: LeaseManager | undefined;
  private readonly encryption: ValueTransformer | undefined;
  /** Objects read from a value under an older key (or in plaintext): an update writes them even unchanged. */
  private readonly stale = new WeakSet<object>();

  /** Writes of this store also require a leader's election key (fenced()); undefined: unfenced. */
  readonly fence: Fence | undefined;

  constructor(
    readonly client: Etcd3,
    private readonly opts: StoreOptions = {},
    fence?: Fence,
  ) {
    this.fence = fence;
    this.keys = new KeyLayout(opts.prefix ?? '/skiff');
    this.timeoutMs = opts.requestTimeoutMs ?? 5000;
    this.now = opts.now ?? (() => new Date());
    this.encryption = opts.encryption;
    this.batcher = new TxnBatcher((req, o) => this.client.kv.txn(req, o), { timeoutMs: this.timeoutMs, fence });
    const ttl = opts.eventTtlSeconds ?? DEFAULT_EVENT_TTL_SECONDS;
    this.eventLeases = ttl > 0 ? new LeaseManager((t) => this.grantLease(t), ttl, opts.eventLeaseReuseSeconds ?? 60) : undefined;
  }

  /**
   * The same store whose every write is conditional on fence (fence.ts): what a leader's
   * controllers write through, so that a deposed leader's writes fail (NotLeaderError) instead
   * of landing. Reads, watches and the shared informers stay on the unfenced store.
   */
  fenced(fence: Fence): Store {
    return new Store(this.client, this.opts, fence);
  }

  private async grantLease(ttlSeconds: number): Promise<string> {
    const res = await this.client.leaseClient.leaseGrant({ TTL: ttlSeconds, ID: 0 }, this.deadline());
    if (res.error) throw new Error(`etcd refused a ${ttlSeconds} s lease: ${res.error}`);
    return res.ID;
  }

  /** The lease a write of this kind carries: expiring kinds get a fresh one on every write. */
  private async leaseOf(info: KindInfo): Promise<string | undefined> {
    return info.kind === 'Event' && this.eventLeases ? this.eventLeases.leaseFor() : undefined;
  }

  private async put(info: KindInfo, key: string, value: Buffer, guard: TxnOp['guard']): Promise<TxnOutcome> {
    const k = Buffer.from(key);
    const lease = await this.leaseOf(info);
    return this.batcher.submit({ key: k, guard, request: { request_put: { key: k, value, lease } }, size: k.length + value.length });
  }

  private deadline(): { deadline: number } {
    return { deadline: Date.now() + this.timeoutMs };
  }

  /** Decodes a stored value read from etcd key `key` (decrypting it when its kind is encrypted). */
  decode<K extends Kind>(info: KindInfo<K>, value: Uint8Array, modRevision: string | number, key: Uint8Array | string): KindMap[K] {
    let plain = value;
    let stale = false;
    if (this.encryption && ENCRYPTED_KINDS.has(info.kind)) {
      ({ plaintext: plain, stale } = this.encryption.decrypt(value, Buffer.from(key).toString()));
    }
    const o = info.codec.decode(plain);
    metaOf(o).resourceVersion = String(modRevision);
    if (stale) this.stale.add(o);
    return o;
  }

  /** A deep copy of a decoded object (through its codec, never through encryption). */
  copy<K extends Kind>(info: KindInfo<K>, o: KindMap[K]): KindMap[K] {
    const codec = info.codec as KindInfo['codec'] & { encode(m: AnyObject): { finish(): Uint8Array } };
    const c = info.codec.decode(codec.encode(o).finish());
    if (this.stale.has(o)) this.stale.add(c);
    return c;
  }

  /** A stand-in for a deleted object whose last value etcd no longer has: just its name. */
  tombstone<K extends Kind>(info: KindInfo<K>, key: string, revision: number): KindMap[K] {
    const o = info.codec.decode(new Uint8Array());
    const parts = key.slice(this.keys.kindPrefix(info).length).split('/');
    const m = metaOf(o);
    m.name = parts[parts.length - 1] ?? '';
    m.namespace = info.namespaced ? (parts[0] ?? '') : '';
    m.resourceVersion = String(revision);
    return o;
  }

  /** The value stored in etcd for o: its protobuf bytes, encrypted when its kind is. */
  encode(info: KindInfo, o: AnyObject): Buffer {
    const stored = { ...o, metadata: { ...metaOf(o), resourceVersion: '' } } as AnyObject;
    const codec = info.codec as KindInfo['codec'] & { encode(m: AnyObject): { finish(): Uint8Array } };
    const plain = codec.encode(stored).finish();
    const value = this.encryption && ENCRYPTED_KINDS.has(info.kind) ? this.encryption.encrypt(plain, this.keyOf(info, o)) : Buffer.from(plain);
    if (value.length > MAX_OBJECT_BYTES) {
      const m = metaOf(o);
      throw errors.invalid(info.kind, m.name, [cause('', `object too large: ${value.length} bytes stored, the limit is ${MAX_OBJECT_BYTES} (etcd's request limit): make it smaller, e.g. split its data over several objects`)]);
    }
    return value;
  }

  keyOf(info: KindInfo, o: AnyObject): string {
    const m = metaOf(o);
    return this.keys.key(info, info.namespaced ? m.namespace : '', m.name);
  }

  async get<K extends Kind>(kind: K, namespace: string, name: string): Promise<KindMap[K]> {
    const info = KINDS[kind] as KindInfo<K>;
    const key = this.keys.key(info, namespace, name);
    let res;
    try {
      res = await this.client.get(key).options(this.deadline()).exec();
    } catch (e) {
      throw fromEtcdError(e, `get ${kind} ${name}`);
    }
    const kv = res.kvs[0];
    if (!kv) throw errors.notFound(kind, info.namespaced ? namespace : '', name);
    return this.decode(info, kv.value, kv.mod_revision, kv.key);
  }

  async currentRevision(): Promise<number> {
    try {
      const res = await this.client.get(`${this.keys.prefix}/`).options(this.deadline()).exec();
      return Number(res.header.revision);
    } catch (e) {
      throw fromEtcdError(e, 'read the current revision');
    }
  }

  async list<K extends Kind>(kind: K, opts: ListOptions = {}): Promise<ListResult<KindMap[K]>> {
    const info = KINDS[kind] as KindInfo<K>;
    const labels = typeof opts.labelSelector === 'string' ? parseLabelSelector(opts.labelSelector) : (opts.labelSelector ?? []);
    const fields =
      typeof opts.fieldSelector === 'string' ? parseFieldSelector(info, opts.fieldSelector) : (opts.fieldSelector ?? []);
    const prefix = Buffer.from(this.keys.listPrefix(info, opts.namespace ?? ''));
    const end = prefixEnd(prefix);
    const items: KindMap[K][] = [];
    let revision = opts.revision ?? 0;
    let from = prefix;
    // Pages pinned to the first page's revision: one consistent snapshot however large.
    for (;;) {
      let res;
      try {
        res = await this.client.kv.range(
          { key: from, range_end: end, limit: PAGE, revision: revision || undefined },
          this.deadline(),
        );
      } catch (e) {
        throw fromEtcdError(e, `list ${info.plural}`);
      }
      if (!revision) revision = Number(res.header.revision);
      for (const kv of res.kvs) {
        const o = this.decode(info, kv.value, kv.mod_revision, kv.key);
        if (labels.length && !matches(labels, o.metadata?.labels)) continue;
        if (fields.length && !fieldsMatch(info, fields, o)) continue;
        items.push(o);
      }
      if (!res.more || res.kvs.length === 0) break;
      from = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
    }
    return { items, revision };
  }

  /** Fills server-owned metadata of a new object (uid, creationTimestamp, generation). */
  prepareCreate(info: KindInfo, o: AnyObject): void {
    const m = metaOf(o);
    if (!m.name) throw errors.invalid(info.kind, '', [{ field: 'metadata.name', message: 'required', source: '' }]);
    if (!info.namespaced) m.namespace = '';
    m.uid = randomUUID();
    // Milliseconds (RFC 3339 allows a fraction; Kubernetes' clients parse it): startup latency
    // measured from creation needs sub-second resolution. Compare these as times, not strings.
    m.creationTimestamp = this.now().toISOString();
    m.generation = 1;
    m.resourceVersion = '';
    m.deletionTimestamp = '';
  }

  async create<K extends Kind>(kind: K, o: KindMap[K]): Promise<KindMap[K]> {
    const info = KINDS[kind] as KindInfo<K>;
    this.prepareCreate(info, o);
    const key = this.keyOf(info, o);
    if (hasReservations(kind)) return this.createReserving(info, key, o);
    let res;
    try {
      res = await this.put(info, key, this.encode(info, o), { kind: 'create' });
    } catch (e) {
      throw fromEtcdError(e, `create ${kind} ${metaOf(o).name}`, { write: true });
    }
    if (!res.succeeded) throw errors.alreadyExists(kind, metaOf(o).namespace, metaOf(o).name);
    metaOf(o).resourceVersion = String(res.revision);
    return o;
  }

  /**
   * Carries server-owned metadata over from the stored object and bumps generation when a
   * spec field changed. Returns false when nothing at all changed (no write needed).
   */
  prepareUpdate(info: KindInfo, o: AnyObject, current: AnyObject): boolean {
    const m = metaOf(o);
    const c = metaOf(current);
    m.uid = c.uid;
    m.creationTimestamp = c.creationTimestamp;
    m.namespace = c.namespace;
    m.generation = c.generation;
    const rec = o as unknown as Record<string, unknown>;
    const cur = current as unknown as Record<string, unknown>;
    if (info.specFields.some((f) => !canonicalEqual(rec[f], cur[f]))) m.generation = c.generation + 1;
    m.resourceVersion = c.resourceVersion;
    // A value under an older encryption key is re-written (re-encrypted) even when unchanged.
    return !canonicalEqual(o, current) || this.stale.has(current);
  }

  /**
   * Compare-and-swap update on metadata.resourceVersion (required). Conflict when the stored
   * object has moved on; NotFound when it is gone. An update that changes nothing is not
   * written and keeps its resourceVersion.
   */
  async update<K extends Kind>(kind: K, o: KindMap[K], opts: UpdateOptions<KindMap[K]> = {}): Promise<KindMap[K]> {
    const info = KINDS[kind] as KindInfo<K>;
    const m = metaOf(o);
    const expected = m.resourceVersion;
    if (!expected) throw errors.badRequest(`update of ${kind} "${m.name}" needs metadata.resourceVersion`);
    const given = opts.current && metaOf(opts.current).resourceVersion === expected ? opts.current : undefined;
    const current = given ?? (await this.get(kind, m.namespace, m.name));
    if (current.metadata?.resourceVersion !== expected) {
      throw errors.conflict(kind, m.namespace, m.name, `resourceVersion ${expected} is stale`);
    }
    if (!this.prepareUpdate(info, o, current)) {
      // Nothing to write; a caller's copy may be stale, and "unchanged" must mean unchanged in etcd.
      return given ? this.update(kind, o) : current;
    }
    const key = this.keyOf(info, o);
    if (hasReservations(kind)) return this.updateReserving(info, key, o, current);
    let res;
    try {
      res = await this.put(info, key, this.encode(info, o), { kind: 'mod', modRevision: Number(expected) });
    } catch (e) {
      throw fromEtcdError(e, `update ${kind} ${m.name}`, { write: true });
    }
    if (!res.succeeded) {
      // Without the read up front, a failed guard may mean the object is gone.
      if (given) await this.get(kind, m.namespace, m.name);
      throw errors.conflict(kind, m.namespace, m.name, `resourceVersion ${expected} is stale`);
    }
    m.resourceVersion = String(res.revision);
    return o;
  }

  /**
   * Update of o with CAS on its resourceVersion that also requires every object in `unchanged`
   * to still be at its resourceVersion (read, not written, in the same etcd transaction): a
   * decision taken over several objects (an eviction's availability count) holds when it is
   * written, from any number of API processes. Conflict when anything moved: decide again.
   */
  async updateIfUnchanged<K extends Kind>(kind: K, o: KindMap[K], current: KindMap[K], unchanged: readonly { kind: Kind; object: AnyObject }[]): Promise<KindMap[K]> {
    const info = KINDS[kind] as KindInfo<K>;
    const m = metaOf(o);
    if (hasReservations(kind)) throw new Error(`updateIfUnchanged does not take reservations (${kind})`);
    this.prepareUpdate(info, o, current);
    const key = Buffer.from(this.keyOf(info, o));
    const ops: GuardedOp[] = [
      { key, guard: { kind: 'mod', modRevision: Number(metaOf(current).resourceVersion) }, request: { request_put: { key, value: this.encode(info, o) } } },
    ];
    for (const u of unchanged) {
      const k = Buffer.from(this.keyOf(KINDS[u.kind] as KindInfo, u.object));
      if (k.equals(key)) continue;
      ops.push({ key: k, guard: { kind: 'mod', modRevision: Number(metaOf(u.object).resourceVersion) }, request: { request_range: { key: k, keys_only: true } } });
    }
    let res;
    try {
      res = await commitGuarded(this.client, ops, [], this.deadline().deadline, this.fence);
    } catch (e) {
      throw fromEtcdError(e, `update ${kind} ${m.name}`, { write: true });
    }
    if (!res.succeeded) throw errors.conflict(kind, m.namespace, m.name, 'it or an object the decision depends on changed');
    m.resourceVersion = String(res.revision);
    return o;
  }

  /**
   * Reads, applies mutate to a copy and writes with CAS, retrying on Conflict. mutate returns
   * the new object, or undefined to stop without writing.
   */
  async guaranteedUpdate<K extends Kind>(
    kind: K,
    namespace: string,
    name: string,
    mutate: (current: KindMap[K]) => KindMap[K] | undefined | Promise<KindMap[K] | undefined>,
    attempts = 16,
  ): Promise<KindMap[K]> {
    for (let i = 0; ; i++) {
      // get() decodes a fresh object, so mutate may change it in place; the pristine copy spares
      // update() a second read.
      const current = await this.get(kind, namespace, name);
      const info = KINDS[kind] as KindInfo<K>;
      const pristine = this.copy(info, current);
      const next = await mutate(current);
      if (!next) return current;
      try {
        return await this.update(kind, next, { current: pristine });
      } catch (e) {
        if (!(e instanceof Error && 'code' in e && e.code === 'Conflict') || i >= attempts - 1) throw e;
      }
    }
  }

  /** Removes the object if it still matches the preconditions; returns what was removed. */
  async delete<K extends Kind>(
    kind: K,
    namespace: string,
    name: string,
    pre: { resourceVersion?: string; uid?: string } = {},
  ): Promise<KindMap[K]> {
    const info = KINDS[kind] as KindInfo<K>;
    const current = await this.get(kind, namespace, name);
    const cm = metaOf(current);
    if (pre.resourceVersion && pre.resourceVersion !== cm.resourceVersion) {
      throw errors.conflict(kind, namespace, name, `resourceVersion ${pre.resourceVersion} is stale`);
    }
    if (pre.uid && pre.uid !== cm.uid) throw errors.conflict(kind, namespace, name, `uid ${pre.uid} no longer exists`);
    const key = this.keyOf(info, current);
    if (hasReservations(kind)) return this.deleteReleasing(info, key, current);
    let res;
    try {
      const k = Buffer.from(key);
      res = await this.batcher.submit({
        key: k,
        guard: { kind: 'mod', modRevision: Number(cm.resourceVersion) },
        request: { request_delete_range: { key: k } },
        size: k.length,
      });
    } catch (e) {
      throw fromEtcdError(e, `delete ${kind} ${name}`, { write: true });
    }
    if (!res.succeeded) throw errors.conflict(kind, namespace, name, 'it changed while being deleted');
    cm.resourceVersion = String(res.revision);
    return current;
  }

  /**
   * Writes several objects atomically: all or none (apply of a multi-document file). Objects
   * must already be prepared (prepareCreate / prepareUpdate). Returns the commit revision.
   * Reservations (Service IPs and ports) are taken and released in the same transaction.
   */
  async transact(writes: TxnWrite[]): Promise<number> {
    if (writes.length === 0) return this.currentRevision();
    const infos = writes.map((w) => KINDS[w.kind] as KindInfo);
    const leases = await Promise.all(infos.map((info) => this.leaseOf(info)));
    const ops: GuardedOp[] = [];
    const owners: { write: number; reservation?: Reservation }[] = [];
    const releases = new Map<string, IRequestOp>();
    const takes: { write: number; reservation: Reservation; op: GuardedOp }[] = [];
    const taking = new Set<string>();
    writes.forEach((w, i) => {
      const key = Buffer.from(this.keyOf(infos[i]!, w.object));
      const guard: GuardedOp['guard'] = w.op === 'create' ? { kind: 'create' } : { kind: 'mod', modRevision: Number(metaOf(w.object).resourceVersion) };
      ops.push({ key, guard, request: { request_put: { key, value: this.encode(infos[i]!, w.object), lease: leases[i] } } });
      owners.push({ write: i });
      if (!hasReservations(w.kind)) return;
      if (w.op === 'update' && !w.current) throw new Error(`transact: update of ${w.kind} needs the stored object`);
      const { add, remove } = w.op === 'create' ? { add: reservationsOf(w.kind, w.object), remove: [] } : reservationDiff(w.kind, w.object, w.current!);
      for (const r of remove) releases.set(this.reservationKey(r), { request_delete_range: { key: Buffer.from(this.reservationKey(r)) } });
      for (const r of add) {
        const rk = this.reservationKey(r);
        if (taking.has(rk)) throw new ReservationTakenError(w.kind, metaOf(w.object).name, [r]);
        taking.add(rk);
        takes.push({ write: i, reservation: r, op: this.reserveOp(r, w.object) });
      }
    });
    // A value one write releases and another takes changes hands: a plain put replaces the delete.
    const unguarded: IRequestOp[] = [];
    for (const t of takes) {
      const rk = this.reservationKey(t.reservation);
      if (releases.has(rk)) {
        releases.delete(rk);
        unguarded.push(t.op.request);
      } else {
        ops.push(t.op);
        owners.push({ write: t.write, reservation: t.reservation });
      }
    }
    // Never sent when over etcd's limit: etcd3 takes the refusal for a broken connection and resets it.
    const bytes = ops.reduce((n, o) => n + o.key.length + (o.request.request_put?.value?.length ?? 0), 0);
    if (bytes > MAX_OBJECT_BYTES) throw tooLargeForTxn('write the applied objects', bytes);
    let res;
    try {
      res = await commitGuarded(this.client, ops, [...unguarded, ...releases.values()], this.deadline().deadline, this.fence);
    } catch (e) {
      throw fromEtcdError(e, 'write the applied objects', { write: true });
    }
    if (!res.succeeded) {
      const failedOwners = res.failed.map((i) => owners[i]!);
      const objectFailed = failedOwners.find((o) => !o.reservation);
      if (!objectFailed) {
        const first = failedOwners[0]!;
        const w = writes[first.write]!;
        throw new ReservationTakenError(w.kind, metaOf(w.object).name, failedOwners.filter((o) => o.write === first.write).map((o) => o.reservation!));
      }
      throw errors.conflict(writes[0]!.kind, '', `${writes.length} objects`, 'one of them changed while applying');
    }
    for (const w of writes) metaOf(w.object).resourceVersion = String(res.revision);
    return res.revision;
  }

  private reservationKey(r: Reservation): string {
    return `${this.keys.prefix}/allocations/${r.key}`;
  }

  /** Keys (relative to <prefix>/allocations/<under>) reserved now, e.g. the ClusterIPs in use. */
  async reserved(under: string): Promise<string[]> {
    const prefix = Buffer.from(`${this.keys.prefix}/allocations/${under}`);
    try {
      const keys = await this.client.getAll().prefix(prefix.toString()).options(this.deadline()).keys();
      return keys.map((k) => k.slice(prefix.length));
    } catch (e) {
      throw fromEtcdError(e, `read the reserved ${under}`);
    }
  }

  private reserveOp(r: Reservation, o: AnyObject): GuardedOp {
    const key = Buffer.from(this.reservationKey(r));
    const m = metaOf(o);
    const value = Buffer.from(JSON.stringify({ namespace: m.namespace, name: m.name, uid: m.uid }));
    return { key, guard: { kind: 'create' }, request: { request_put: { key, value } } };
  }

  private async createReserving<K extends Kind>(info: KindInfo<K>, key: string, o: KindMap[K]): Promise<KindMap[K]> {
    const m = metaOf(o);
    const k = Buffer.from(key);
    const reservations = reservationsOf(info.kind, o);
    const ops: GuardedOp[] = [
      { key: k, guard: { kind: 'create' }, request: { request_put: { key: k, value: this.encode(info, o) } } },
      ...reservations.map((r) => this.reserveOp(r, o)),
    ];
    let res;
    try {
      res = await commitGuarded(this.client, ops, [], this.deadline().deadline, this.fence);
    } catch (e) {
      throw fromEtcdError(e, `create ${info.kind} ${m.name}`, { write: true });
    }
    if (!res.succeeded) {
      if (res.failed.includes(0)) throw errors.alreadyExists(info.kind, m.namespace, m.name);
      throw new ReservationTakenError(info.kind, m.name, res.failed.map((i) => reservations[i - 1]!));
    }
    m.resourceVersion = String(res.revision);
    return o;
  }

  private async updateReserving<K extends Kind>(info: KindInfo<K>, key: string, o: KindMap[K], current: KindMap[K]): Promise<KindMap[K]> {
    const m = metaOf(o);
    const k = Buffer.from(key);
    const { add, remove } = reservationDiff(info.kind, o, current);
    const ops: GuardedOp[] = [
      { key: k, guard: { kind: 'mod', modRevision: Number(m.resourceVersion) }, request: { request_put: { key: k, value: this.encode(info, o) } } },
      ...add.map((r) => this.reserveOp(r, o)),
    ];
    const releases = remove.map((r): IRequestOp => ({ request_delete_range: { key: Buffer.from(this.reservationKey(r)) } }));
    let res;
    try {
      res = await commitGuarded(this.client, ops, releases, this.deadline().deadline, this.fence);
    } catch (e) {
      throw fromEtcdError(e, `update ${info.kind} ${m.name}`, { write: true });
    }
    if (!res.succeeded) {
      if (res.failed.includes(0)) {
        await this.get(info.kind, m.namespace, m.name); // NotFound when it is gone
        throw errors.conflict(info.kind, m.namespace, m.name, `resourceVersion ${m.resourceVersion} is stale`);
      }
      throw new ReservationTakenError(info.kind, m.name, res.failed.map((i) => add[i - 1]!));
    }
    m.resourceVersion = String(res.revision);
    return o;
  }

  private async deleteReleasing<K extends Kind>(info: KindInfo<K>, key: string, current: KindMap[K]): Promise<KindMap[K]> {
    const cm = metaOf(current);
    const k = Buffer.from(key);
    const releases = reservationsOf(info.kind, current).map((r): IRequestOp => ({ request_delete_range: { key: Buffer.from(this.reservationKey(r)) } }));
    let res;
    try {
      res = await commitGuarded(
        this.client,
        [{ key: k, guard: { kind: 'mod', modRevision: Number(cm.resourceVersion) }, request: { request_delete_range: { key: k } } }],
        releases,
        this.deadline().deadline,
        this.fence,
      );
    } catch (e) {
      throw fromEtcdError(e, `delete ${info.kind} ${cm.name}`, { write: true });
    }
    if (!res.succeeded) throw errors.conflict(info.kind, cm.namespace, cm.name, 'it changed while being deleted');
    cm.resourceVersion = String(res.revision);
    return current;
  }

  /** Re-writes every object of the kind read from an older key (or plaintext); returns how many. */
  async rewriteStale(kind: Kind): Promise<number> {
    const { items } = await this.list(kind);
    let n = 0;
    for (const o of items) {
      if (!this.stale.has(o)) continue;
      const m = metaOf(o);
      try {
        await this.guaranteedUpdate(kind, m.namespace, m.name, (cur) => cur);
        n++;
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 'NotFound')) throw e;
      }
    }
    return n;
  }

  /** Watches one kind from a revision; see StoreWatch for delivery guarantees. */
  watch<K extends Kind>(kind: K, opts: WatchOptions<KindMap[K]>): StoreWatch<K> {
    return new StoreWatch(this, KINDS[kind], opts);
  }

  /** Compacts etcd history up to revision (tests and maintenance). */
  async compact(revision: number): Promise<void> {
    await this.client.kv.compact({ revision, physical: true }, this.deadline());
  }
}
