// The workload a chaos run drives while faults happen: Deployments under continuous rollouts
// (template changes) and scaling, a journal of created ConfigMaps (each acknowledged create must
// survive), concurrent conflicting updates from the same resourceVersion, and bad manifests.
// Every call goes to one control plane and, when it does not answer, to the other; a call that
// times out is recorded as 'unknown' (it may have landed).
import { ApiError } from '../../proto/api/errors.js';
import { unwrapAs, wrap } from '../../proto/api/kinds.js';
import { fromManifest } from '../../proto/api/manifest.js';
import type { Deployment } from '../../proto/gen/skiff/v1/apps.js';
import type { ConfigMap } from '../../proto/gen/skiff/v1/config.js';
import type { TestApi } from '../../control-plane/api/testing.js';
import type { Bed } from './bed.js';
import type { ApiRecord, FinalState, History } from './history.js';
import type { Prng } from './prng.js';

/** Rolled continuously, never scaled: the surge/availability invariants hold for these. */
export const ROLLED = [
  { name: 'roll-a', replicas: 4, maxSurge: 1, maxUnavailable: 0 },
  { name: 'roll-b', replicas: 3, maxSurge: 1, maxUnavailable: 1 },
];
/** Scaled (and rolled): only the end-state invariants hold for this one. */
export const SCALED = { name: 'scaled', replicas: 3, maxSurge: 1, maxUnavailable: 1 };
export const CALL_TIMEOUT_MS = 4000;

export function deploymentManifest(name: string, replicas: number, maxSurge: number, maxUnavailable: number, image = 'chaos/app:1'): Deployment {
  return fromManifest({
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace: 'default', annotations: { 'chaos/conflict': '0' } },
    spec: {
      replicas,
      selector: { matchLabels: { chaos: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } },
      template: {
        metadata: { labels: { chaos: name }, annotations: { 'chaos/rev': '0' } },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image, imagePullPolicy: 'IfNotPresent' }] },
      },
    },
  }).object as Deployment;
}

/** No answer, or a refusal after another control plane said Unavailable: the write may have landed. */
class Ambiguous extends Error {}

export class Workload {
  private readonly clients: TestApi[];
  private prefer = 0;
  private journal = 0;
  private bad = 0;
  private readonly rev = new Map<string, number>();
  private conflictValue = 0;

  constructor(
    bed: Bed,
    private readonly h: History,
    private readonly t0: number,
    private readonly rng: Prng,
    private readonly image = 'chaos/app:1',
  ) {
    this.clients = bed.cps.map((_, i) => bed.client(i));
  }

  private now(): number {
    return Date.now() - this.t0;
  }

  /** One call with a deadline on the preferred control plane, then the other on Unavailable. */
  private async call<T>(fn: (api: TestApi) => Promise<T>): Promise<T> {
    let last: unknown;
    for (let attempt = 0; attempt < this.clients.length; attempt++) {
      const i = (this.prefer + attempt) % this.clients.length;
      try {
        let timer: NodeJS.Timeout | undefined;
        const r = await Promise.race([
          fn(this.clients[i]!),
          new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Ambiguous('timed out')), CALL_TIMEOUT_MS))),
        ]).finally(() => clearTimeout(timer));
        this.prefer = i;
        return r;
      } catch (e) {
        last = e;
        // Only a refusal to serve is sent elsewhere; a timeout may have landed. An Unavailable
        // may have landed too (etcd committed, the answer was lost), so what the retry gets
        // (Conflict, AlreadyExists) does not say the write failed.
        if (!(e instanceof ApiError && e.code === 'Unavailable')) {
          if (attempt > 0 && !(e instanceof Ambiguous)) throw new Ambiguous(`after Unavailable: ${(e as Error).message}`);
          throw e;
        }
      }
    }
    throw last;
  }

  private record(r: Omit<ApiRecord, 't' | 'outcome' | 'code'>, e?: unknown): void {
    const outcome = e === undefined ? 'ok' : e instanceof Ambiguous || (e instanceof ApiError && (e.code === 'Timeout' || e.code === 'Unavailable' || e.code === 'Internal')) ? 'unknown' : 'error';
    this.h.api.push({ t: this.now(), ...r, outcome, code: e === undefined ? undefined : e instanceof ApiError ? e.code : e instanceof Error ? e.message : 'non-error' });
  }

  async setup(): Promise<void> {
    for (const d of [...ROLLED, SCALED]) {
      await this.call((api) => api.create({ object: wrap('Deployment', deploymentManifest(d.name, d.replicas, d.maxSurge, d.maxUnavailable, this.image)) }));
      this.rev.set(d.name, 0);
    }
  }

  /** One random step of the workload. */
  async step(): Promise<void> {
    const r = this.rng.next();
    if (r < 0.35) await this.rollout(this.rng.pick([...ROLLED.map((d) => d.name), SCALED.name]));
    else if (r < 0.5) await this.scale(this.rng.int(1, 6));
    else if (r < 0.7) await this.journalCreate();
    else if (r < 0.85) await this.conflict(this.rng.pick(ROLLED).name);
    else await this.badInput();
  }

  private async getDeployment(name: string): Promise<Deployment> {
    return unwrapAs('Deployment', await this.call((api) => api.get({ kind: 'Deployment', namespace: 'default', name })));
  }

  private async rollout(name: string): Promise<void> {
    const value = (this.rev.get(name) ?? 0) + 1;
    this.rev.set(name, value);
    let d: Deployment;
    try {
      d = await this.getDeployment(name);
    } catch {
      return; // nothing attempted
    }
    d.spec!.template!.metadata!.annotations = { ...d.spec!.template!.metadata!.annotations, 'chaos/rev': String(value) };
    try {
      await this.call((api) => api.update({ object: wrap('Deployment', d) }));
      this.record({ op: 'rollout', name, value });
    } catch (e) {
      this.record({ op: 'rollout', name, value }, e);
    }
  }

  private async scale(replicas: number): Promise<void> {
    let d: Deployment;
    try {
      d = await this.getDeployment(SCALED.name);
    } catch {
      return;
    }
    d.spec!.replicas = replicas;
    try {
      await this.call((api) => api.update({ object: wrap('Deployment', d) }));
      this.record({ op: 'scale', name: SCALED.name, value: replicas });
    } catch (e) {
      this.record({ op: 'scale', name: SCALED.name, value: replicas }, e);
    }
  }

  private async journalCreate(): Promise<void> {
    const name = `ack-${this.journal++}`;
    const cm = fromManifest({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { n: name } }).object as ConfigMap;
    try {
      await this.call((api) => api.create({ object: wrap('ConfigMap', cm) }));
      this.record({ op: 'create-journal', name });
    } catch (e) {
      this.record({ op: 'create-journal', name }, e);
    }
  }

  /** Two updates from the same resourceVersion at once: at most one may succeed. */
  private async conflict(name: string): Promise<void> {
    let d: Deployment;
    try {
      d = await this.getDeployment(name);
    } catch {
      return;
    }
    const basedOn = d.metadata!.resourceVersion;
    const values = [++this.conflictValue, ++this.conflictValue];
    await Promise.all(values.map(async (value) => {
      const copy = structuredClone(d);
      copy.metadata!.annotations = { ...copy.metadata!.annotations, 'chaos/conflict': String(value) };
      try {
        await this.call((api) => api.update({ object: wrap('Deployment', copy) }));
        this.record({ op: 'conflict', name, value, basedOn });
      } catch (e) {
        this.record({ op: 'conflict', name, value, basedOn }, e);
      }
    }));
  }

  /**
   * An apply of two documents, a valid ConfigMap and an invalid Deployment (or a lone create of
   * an invalid Deployment): must be refused as Invalid and leave neither behind.
   */
  private async badInput(): Promise<void> {
    const name = `bad-${this.bad++}`;
    const broken = this.rng.pick(['replicas', 'selector', 'name']);
    const spec: Record<string, unknown> = {
      replicas: broken === 'replicas' ? -2 : 1,
      selector: { matchLabels: { chaos: name } },
      template: { metadata: { labels: { chaos: broken === 'selector' ? 'other' : name } }, spec: { containers: [{ name: 'app', image: 'chaos/app:1' }] } },
    };
    const dep = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: broken === 'name' ? `${name}_NOT_A_NAME` : name, namespace: 'default' }, spec };
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { x: '1' } };
    try {
      await this.call((api) => api.apply({
        documents: [{ manifest: JSON.stringify(cm), source: 'chaos#1' }, { manifest: JSON.stringify(dep), source: 'chaos#2' }],
        fieldManager: 'chaos',
      }));
      this.record({ op: 'bad-input', name });
    } catch (e) {
      this.record({ op: 'bad-input', name }, e);
    }
  }

  /** Reads the end state the lost-write and bad-input checks compare against. */
  async final(): Promise<FinalState> {
    const cms = (await this.call((api) => api.list({ kind: 'ConfigMap', namespace: 'default' }))).items.map((r) => unwrapAs('ConfigMap', r));
    const deps = (await this.call((api) => api.list({ kind: 'Deployment', namespace: 'default' }))).items.map((r) => unwrapAs('Deployment', r));
    const out: FinalState = { journal: [], deployments: {}, names: [] };
    for (const c of cms) {
      out.names.push(`ConfigMap/${c.metadata!.name}`);
      if (c.metadata!.name.startsWith('ack-')) out.journal.push(c.metadata!.name);
    }
    for (const d of deps) {
      out.names.push(`Deployment/${d.metadata!.name}`);
      out.deployments[d.metadata!.name] = {
        rev: Number(d.spec?.template?.metadata?.annotations?.['chaos/rev'] ?? 0),
        replicas: d.spec?.replicas ?? 1,
        conflict: Number(d.metadata?.annotations?.['chaos/conflict'] ?? 0),
      };
    }
    return out;
  }

  /** True when every chaos Deployment has all its replicas updated and available, and no extra pods. */
  async converged(): Promise<boolean> {
    const deps = (await this.call((api) => api.list({ kind: 'Deployment', namespace: 'default' }))).items.map((r) => unwrapAs('Deployment', r));
    const pods = (await this.call((api) => api.list({ kind: 'Pod', namespace: 'default' }))).items.map((r) => unwrapAs('Pod', r));
    for (const d of deps) {
      const want = d.spec?.replicas ?? 1;
      const st = d.status;
      if ((st?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return false;
      if (st?.updatedReplicas !== want || st?.availableReplicas !== want || st?.replicas !== want) return false;
      const mine = pods.filter((p) => p.metadata?.labels?.chaos === d.metadata!.name);
      if (mine.length !== want) return false;
      if (!mine.every((p) => p.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True'))) return false;
    }
    return deps.length > 0;
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}
