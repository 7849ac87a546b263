// `skiff cordon`, `uncordon` and `drain` against the real control plane on a real etcd with the
// controllers running (ReplicaSet, Deployment, scheduler, node lifecycle). The test plays the
// two node agents: it renews their Leases, marks a bound pod Running and Ready once it is a
// little old (so replacements take a moment to become available, as real ones do) and removes
// pods whose deletion has started. A watcher checks, at every pod event during the drain, that
// the Deployment never has fewer than replicas - maxUnavailable available pods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isApiError } from '../../proto/api/errors.js';
import { Lease } from '../../proto/gen/skiff/v1/coordination.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { startTestServer, type TestServer } from '../../control-plane/api/testing.js';
import { startControllerManager, type ControllerManager } from '../../control-plane/controllers/manager.js';
import { NODE_LEASE_NAMESPACE } from '../../control-plane/controllers/nodelifecycle/decide.js';
import { isPodReady } from '../../control-plane/controllers/replicaset/pods.js';
import { deploymentFixture, podFixture } from '../../control-plane/controllers/runtime/fixtures.js';
import { node } from '../../control-plane/controllers/scheduler/fixtures.js';
import { SharedInformers } from '../../control-plane/informers.js';
import type { StoreWatch } from '../../control-plane/storage/watch.js';
import { drainCommand } from '../../cli/commands/node.js';
import { makeCtx } from '../../cli/context.js';
import { runCli } from '../../cli/program.js';
import { testStore, type TestStore } from '../helpers/etcd-client.js';
import { until } from '../helpers/wait.js';
import { testTlsFiles } from '../helpers/tls.js';

const NODES = ['n1', 'n2'];
const REPLICAS = 4;
const FLOOR = 3; // 4 - 25% rounded down

let ts: TestStore;
let informers: SharedInformers;
let manager: ControllerManager;
let server: TestServer;
let agents: NodeJS.Timeout | undefined;
let env: NodeJS.ProcessEnv;

/** One pass of the simulated agents; a pod is started once it is 300 ms old. */
async function agentStep(): Promise<void> {
  const now = new Date();
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (const name of NODES) {
    await ts.store.guaranteedUpdate('Lease', NODE_LEASE_NAMESPACE, name, (l) => {
      l.spec!.renewTime = now.toISOString();
      return l;
    });
    await ts.store.guaranteedUpdate('Node', '', name, (n) => {
      const ready = n.status!.conditions.find((c) => c.type === 'Ready')!;
      if (ready.status === 'True') return undefined;
      Object.assign(ready, { status: 'True', reason: 'AgentReady', message: '', lastTransitionTime: stamp });
      return n;
    });
  }
  for (const p of (await ts.store.list('Pod')).items) {
    const m = p.metadata!;
    if (!p.spec?.nodeName) continue;
    if (m.deletionTimestamp) {
      await ts.store.delete('Pod', m.namespace, m.name, { uid: m.uid }).catch((e: unknown) => {
        if (!isApiError(e, 'NotFound') && !isApiError(e, 'Conflict')) throw e;
      });
    } else if (!isPodReady(p) && p.status?.phase !== 'Succeeded' && now.getTime() - Date.parse(m.creationTimestamp) >= 300) {
      p.status!.phase = 'Running';
      p.status!.startTime = stamp;
      p.status!.conditions = [
        { type: 'Ready', status: 'True', reason: '', message: '', lastTransitionTime: stamp, lastUpdateTime: '', lastProbeTime: '', lastHeartbeatTime: '' },
      ];
      await ts.store.update('Pod', p).catch((e: unknown) => {
        if (!isApiError(e, 'NotFound') && !isApiError(e, 'Conflict')) throw e;
      });
    }
  }
}

/** Available (ready, not terminating) pods of the Deployment at every event; the minimum seen. */
class Availability {
  private readonly pods = new Map<string, Pod>();
  min = Number.MAX_SAFE_INTEGER;
  private watch: StoreWatch<'Pod'> | undefined;

  async start(): Promise<void> {
    const { items, revision } = await ts.store.list('Pod');
    for (const p of items) this.pods.set(p.metadata!.name, p);
    this.check();
    this.watch = ts.store.watch('Pod', {
      afterRevision: revision,
      onEvent: (ev) => {
        if (ev.type === 'DELETED') this.pods.delete(ev.object.metadata!.name);
        else this.pods.set(ev.object.metadata!.name, ev.object);
        this.check();
      },
      onError: () => undefined,
    });
    await this.watch.ready;
  }

  private check(): void {
    const n = [...this.pods.values()].filter((p) => p.metadata!.name.startsWith('web-') && !p.metadata!.deletionTimestamp && isPodReady(p)).length;
    this.min = Math.min(this.min, n);
  }

  async stop(): Promise<void> {
    await this.watch?.close();
  }
}

async function skiff(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env, interactive: false });
  return { code, out, err };
}

const podsOn = async (nodeName: string): Promise<Pod[]> => (await ts.store.list('Pod', { fieldSelector: `spec.nodeName=${nodeName}` })).items;

beforeAll(async () => {
  ts = testStore();
  informers = new SharedInformers(ts.store);
  server = await startTestServer(ts.store);
  for (const name of NODES) {
    await ts.store.create('Node', node(name, { cpu: '4', memory: '8Gi', pods: '20' }));
    await ts.store.create('Lease', Lease.fromPartial({
      metadata: { name, namespace: NODE_LEASE_NAMESPACE },
      spec: { holderIdentity: name, leaseDurationSeconds: 10, renewTime: new Date().toISOString() },
    }));
  }
  manager = await startControllerManager({
    store: ts.store, informers, etcd: ts.client, identity: 'drain-test', leaseTtlSeconds: 2,
    nodeGracePeriodSeconds: 10, podEvictionDelaySeconds: 10, log: () => undefined,
  });
  let busy = false;
  agents = setInterval(() => {
    if (busy) return;
    busy = true;
    agentStep().catch((e: unknown) => console.error('simulated agent step failed', e)).finally(() => (busy = false));
  }, 50);
  env = { HOME: '/nonexistent', SKIFF_SERVER: `127.0.0.1:${server.server.port}`, SKIFF_CERTIFICATE_AUTHORITY: (await testTlsFiles()).caFile };
});

afterAll(async () => {
  clearInterval(agents);
  await manager?.stop();
  await informers?.stop();
  await server?.stop();
  await ts?.close();
});

describe('skiff cordon, uncordon, drain', () => {
  it('cordon and uncordon set spec.unschedulable and say when nothing changes', async () => {
    expect(await skiff(['cordon', 'n2'])).toMatchObject({ code: 0, out: 'node/n2 cordoned\n' });
    expect((await ts.store.get('Node', '', 'n2')).spec?.unschedulable).toBe(true);
    expect(await skiff(['cordon', 'node/n2'])).toMatchObject({ code: 0, out: 'node/n2 already cordoned\n' });
    expect(await skiff(['uncordon', 'n2'])).toMatchObject({ code: 0, out: 'node/n2 uncordoned\n' });
    expect((await ts.store.get('Node', '', 'n2')).spec?.unschedulable).toBe(false);
    const missing = await skiff(['cordon', 'n9']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/Node "n9" not found/);
  });

  it("drains a node: refuses bare pods without --force, then evicts while keeping the Deployment's availability", async () => {
    await ts.store.create('Deployment', deploymentFixture('web', { replicas: REPLICAS }));
    await until(async () => {
      const pods = (await ts.store.list('Pod')).items.filter((p) => p.metadata!.name.startsWith('web-') && isPodReady(p));
      return pods.length === REPLICAS;
    }, 30_000, 'the Deployment rolled out');
    // Make sure n1 holds at least two of its pods, so one eviction has to wait for a replacement.
    let onN1 = (await podsOn('n1')).length;
    while (onN1 < 2) {
      const victim = (await podsOn('n2')).find((p) => p.metadata!.name.startsWith('web-') && !p.metadata!.deletionTimestamp)!;
      await skiff(['cordon', 'n2']);
      await ts.store.delete('Pod', 'default', victim.metadata!.name);
      await until(async () => (await podsOn('n1')).filter((p) => isPodReady(p)).length > onN1, 30_000, 'a pod moved to n1');
      await skiff(['uncordon', 'n2']);
      onN1 = (await podsOn('n1')).length;
    }
    await ts.store.create('Pod', podFixture('bare', { nodeName: 'n1', ready: true }));
    await ts.store.create('Pod', podFixture('bare-done', { nodeName: 'n1', phase: 'Succeeded' }));

    const refused = await skiff(['drain', 'n1']);
    expect(refused.code).toBe(1);
    // Only the running one: a finished pod without a controller goes without --force, as in kubectl.
    expect(refused.err).toContain('cannot delete Pods that declare no controller (use --force to override): default/bare\n');
    expect((await ts.store.get('Node', '', 'n1')).spec?.unschedulable).toBe(true);

    const availability = new Availability();
    await availability.start();
    let out = '';
    let err = '';
    const ctx = makeCtx({
      settings: { server: env.SKIFF_SERVER!, token: '', namespace: 'default', origin: { server: 'env', token: 'default', namespace: 'default' }, tls: server.clientTls },
      explicitNamespace: false, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) },
      interactive: false, timeoutMs: 10_000,
    });
    const onN1Before = (await podsOn('n1')).map((p) => p.metadata!.name).sort();
    try {
      expect(await drainCommand(ctx, ['n1'], { timeout: '60s', force: true, gracePeriod: 5, retryMs: 100, pollMs: 50 })).toBe(0);
    } finally {
      ctx.close();
      await availability.stop();
    }
    for (const name of onN1Before) {
      expect(out).toContain(`evicting pod default/${name}\n`);
      expect(out).toContain(`pod/${name} evicted\n`);
    }
    expect(out.trimEnd().split('\n').at(-1)).toBe('node/n1 drained');
    expect(err).toContain('Warning: deleting Pods that declare no controller: default/bare\n');
    expect(out).toContain('pod/bare-done evicted\n');
    // Two of the Deployment's pods were on n1 and only one could go at a time.
    expect(err).toMatch(/error when evicting pods\/"web-[a-z0-9-]+" -n "default" \(will retry after 0.1s\): Cannot evict pod as it would violate the availability of deployment "default\/web"/);
    expect(availability.min).toBeGreaterThanOrEqual(FLOOR);
    expect(await podsOn('n1')).toEqual([]);
    await until(async () => (await podsOn('n2')).filter((p) => isPodReady(p) && !p.metadata!.deletionTimestamp).length === REPLICAS, 30_000, 'all replicas on n2');

    expect(await skiff(['uncordon', 'n1'])).toMatchObject({ code: 0, out: 'node/n1 uncordoned\n' });
  });
});
