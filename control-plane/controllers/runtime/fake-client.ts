// Test double of ControllerClient (kubernetes' fake clientset): keeps objects in memory,
// records every write as an Action the test asserts, and can be told to fail chosen calls.
import { errors } from '../../../proto/api/errors.js';
import { KINDS, metaOf, type AnyObject, type Kind, type KindMap } from '../../../proto/api/kinds.js';
import { copyObject, copyStatus, type ControllerClient, type DeleteOptions, type Preconditions } from '../client.js';

export type Verb = 'create' | 'update' | 'updateStatus' | 'patch' | 'delete';

export interface Action {
  verb: Verb;
  kind: Kind;
  namespace: string;
  name: string;
  /** The object as written (create/update/updateStatus/patch). */
  object?: AnyObject;
  options?: DeleteOptions;
}

/** Returns an error to fail the call with, or undefined to let it through. */
export type Reactor = (a: Action) => Error | undefined;

export class FakeClient implements ControllerClient {
  readonly actions: Action[] = [];
  private readonly objects = new Map<string, AnyObject>();
  private readonly reactors: Reactor[] = [];
  private rv = 100;
  private uids = 0;
  private names = 0;

  constructor(objects: { kind: Kind; object: AnyObject }[] = []) {
    for (const o of objects) this.objects.set(this.key(o.kind, metaOf(o.object).namespace, metaOf(o.object).name), copyObject(o.kind, o.object));
  }

  private key(kind: Kind, namespace: string, name: string): string {
    return `${kind}/${namespace}/${name}`;
  }

  /** Adds a reactor consulted before every write. */
  react(r: Reactor): void {
    this.reactors.push(r);
  }

  /** Actions of some verbs (and kind), as "verb kind name" lines: handy to assert on. */
  summary(filter: { verbs?: Verb[]; kind?: Kind } = {}): string[] {
    return this.actions
      .filter((a) => (!filter.verbs || filter.verbs.includes(a.verb)) && (!filter.kind || a.kind === filter.kind))
      .map((a) => `${a.verb} ${a.kind} ${a.name}`);
  }

  stored<K extends Kind>(kind: K, namespace: string, name: string): KindMap[K] | undefined {
    const o = this.objects.get(this.key(kind, namespace, name));
    return o ? copyObject(kind, o as KindMap[K]) : undefined;
  }

  storedAll<K extends Kind>(kind: K): KindMap[K][] {
    return [...this.objects.entries()].filter(([k]) => k.startsWith(`${kind}/`)).map(([, o]) => copyObject(kind, o as KindMap[K]));
  }

  /** Writes complete on a later tick, as real ones do, so concurrent writes interleave. */
  private tick(): Promise<void> {
    return new Promise((r) => setImmediate(r));
  }

  private act(a: Action): void {
    this.actions.push(a);
    for (const r of this.reactors) {
      const e = r(a);
      if (e) throw e;
    }
  }

  get<K extends Kind>(kind: K, namespace: string, name: string): Promise<KindMap[K]> {
    const o = this.stored(kind, namespace, name);
    return o ? Promise.resolve(o) : Promise.reject(errors.notFound(kind, namespace, name));
  }

  async create<K extends Kind>(kind: K, obj: KindMap[K]): Promise<KindMap[K]> {
    await this.tick();
    const o = copyObject(kind, obj);
    const m = metaOf(o);
    if (!m.name && m.generateName) m.name = `${m.generateName}${String(this.names++).padStart(5, 'x')}`;
    this.act({ verb: 'create', kind, namespace: m.namespace, name: m.name, object: copyObject(kind, o) });
    const k = this.key(kind, m.namespace, m.name);
    if (this.objects.has(k)) throw errors.alreadyExists(kind, m.namespace, m.name);
    o.apiVersion = KINDS[kind].apiVersion;
    o.kind = kind;
    m.uid = `uid-${++this.uids}`;
    m.generation = 1;
    m.resourceVersion = String(++this.rv);
    this.objects.set(k, copyObject(kind, o));
    return o;
  }

  private async write<K extends Kind>(verb: Verb, kind: K, obj: KindMap[K]): Promise<KindMap[K]> {
    await this.tick();
    const o = copyObject(kind, obj);
    const m = metaOf(o);
    this.act({ verb, kind, namespace: m.namespace, name: m.name, object: copyObject(kind, o) });
    const k = this.key(kind, m.namespace, m.name);
    const cur = this.objects.get(k);
    if (!cur) throw errors.notFound(kind, m.namespace, m.name);
    if (m.resourceVersion && metaOf(cur).resourceVersion !== m.resourceVersion) {
      throw errors.conflict(kind, m.namespace, m.name, 'stale resourceVersion');
    }
    // As the real client: update and patch keep the stored status, updateStatus changes only it.
    const stored = copyObject(kind, cur as KindMap[K]) as KindMap[K] & { status?: unknown };
    let next: KindMap[K];
    if (verb === 'updateStatus') {
      stored.status = copyStatus(kind, o);
      next = stored;
    } else {
      next = o;
      if ('status' in stored) (next as { status?: unknown }).status = stored.status;
    }
    metaOf(next).resourceVersion = String(++this.rv);
    this.objects.set(k, copyObject(kind, next));
    return next;
  }

  async update<K extends Kind>(kind: K, obj: KindMap[K]): Promise<KindMap[K]> {
    return this.write('update', kind, obj);
  }

  async updateStatus<K extends Kind>(kind: K, obj: KindMap[K]): Promise<KindMap[K]> {
    return this.write('updateStatus', kind, obj);
  }

  async patch<K extends Kind>(
    kind: K,
    namespace: string,
    name: string,
    mutate: (current: KindMap[K]) => KindMap[K] | undefined,
    pre?: Preconditions,
  ): Promise<KindMap[K]> {
    const cur = this.stored(kind, namespace, name);
    if (!cur) throw errors.notFound(kind, namespace, name);
    if (pre?.uid && metaOf(cur).uid !== pre.uid) throw errors.conflict(kind, namespace, name, 'uid changed');
    const next = mutate(cur);
    if (!next) return cur;
    metaOf(next).resourceVersion = '';
    return this.write('patch', kind, next);
  }

  async delete(kind: Kind, namespace: string, name: string, opts?: DeleteOptions): Promise<void> {
    await this.tick();
    this.act({ verb: 'delete', kind, namespace, name, options: opts });
    const k = this.key(kind, namespace, name);
    const cur = this.objects.get(k);
    if (!cur) throw errors.notFound(kind, namespace, name);
    if (opts?.preconditions?.uid && metaOf(cur).uid !== opts.preconditions.uid) {
      throw errors.conflict(kind, namespace, name, 'uid changed');
    }
    this.objects.delete(k);
    return ;
  }
}
