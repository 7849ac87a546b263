// Service rollout on a real node (root only): the real agent on a private containerd with its
// nftables proxy, a Deployment behind a NodePort Service, and a bounded load on 127.0.0.1 (one
// fresh connection per request, every 10 ms) through a rolling update. Reports requests lost,
// request latency during the rollout, and for each new pod the time from Ready (as the bench's
// 50 ms poll of the API first sees it) to the first request it serves through the Service.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { fromManifest } from '../proto/api/manifest.js';
import { unwrapAs, wrap } from '../proto/api/kinds.js';
import type { Deployment } from '../proto/gen/skiff/v1/apps.js';
import type { Pod, Service } from '../proto/gen/skiff/v1/core.js';
import { NodeAgent } from '../node-agent/agent.js';
import { CriRuntime } from '../node-agent/runtime/cri/driver.js';
import { startContainerd } from '../test/helpers/containerd.js';
import { startLoad } from '../test/helpers/load.js';
import { connect, sleep, startBed, waitNodesReady } from './cluster.js';
import { realNodeUnavailable } from './real-node.js';
import type { ScenarioOptions, ScenarioResult } from './scenario.js';
import { summarize } from './stats.js';
import { TEST_AGENT_SERVING, TEST_CLIENT_TLS } from '../test/helpers/tls.js';

const NODE = 'svc-node';
const POLL_MS = 50;

function manifests(replicas: number): { deployment: Deployment; service: Service } {
  const deployment = fromManifest({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [{
            name: 'web', image: 'skiff/hello:1', imagePullPolicy: 'IfNotPresent', ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
          }],
        },
      },
    },
  }).object as Deployment;
  const service = fromManifest({
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
    spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  }).object as Service;
  return { deployment, service };
}

const isReady = (p: Pod): boolean => !p.metadata?.deletionTimestamp && (p.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);

export async function serviceRollout(o: ScenarioOptions): Promise<ScenarioResult> {
  const skip = (reason: string): ScenarioResult => ({ json: { scenario: 'service-rollout', size: o.size, skipped: true, reason }, summary: `service-rollout: skipped: ${reason}`, series: [] });
  const why = realNodeUnavailable();
  if (why) return skip(why);
  let containerd;
  try {
    containerd = await startContainerd();
  } catch (e) {
    return skip(`containerd did not start: ${e instanceof Error ? e.message.slice(0, 500) : String(e)}`);
  }
  // This run's own ClusterIP range, NodePort band and nft table: nothing shared with the host's.
  const serviceCIDR = `10.${randomInt(100, 190)}.0.0/16`;
  const portBase = 30000 + 100 * randomInt(0, 27);
  const table = `skiff-bench-${randomBytes(3).toString('hex')}`;
  const stateDir = await mkdtemp(join(tmpdir(), 'skiff-bench-svc-'));
  const bed = await startBed({ controlPlanes: 1, extraArgs: ['--service-cluster-ip-range', serviceCIDR, '--service-node-port-range', `${portBase}-${portBase + 99}`] });
  const cp = bed.cps[0];
  const api = cp ? connect(cp.address) : undefined;
  let agent: NodeAgent | undefined;
  try {
    if (!cp || !api) throw new Error('no control plane');
    agent = new NodeAgent({
      nodeName: NODE, controlPlane: cp.address, tls: TEST_CLIENT_TLS, serving: TEST_AGENT_SERVING, runtime: new CriRuntime({ address: containerd.address, nodeName: NODE }),
      stateDir: join(stateDir, 'agent'), podCIDR: containerd.subnet, listen: '', log: pino({ level: 'silent' }),
      serviceProxy: { serviceCIDR, table }, cleanup: true,
    });
    await agent.start();
    await waitNodesReady(api, 1, 60_000);
    const replicas = o.pods;
    const m = manifests(replicas);
    await api.create({ object: wrap('Service', m.service) });
    await api.create({ object: wrap('Deployment', m.deployment) });
    const svc = unwrapAs('Service', await api.get({ kind: 'Service', namespace: 'default', name: 'web' }));
    const nodePort = svc.spec?.ports[0]?.nodePort ?? 0;
    const pods = async (): Promise<Pod[]> => (await api.list({ kind: 'Pod', namespace: 'default', labelSelector: 'app=web' })).items.map((r) => unwrapAs('Pod', r));
    const end = Date.now() + o.timeoutMs;
    const waitFor = async (cond: () => Promise<boolean>, what: string): Promise<void> => {
      while (!(await cond())) {
        if (Date.now() > end) throw new Error(`service-rollout: ${what} not reached in ${o.timeoutMs} ms`);
        await sleep(POLL_MS);
      }
    };
    await waitFor(async () => (await pods()).filter(isReady).length === replicas, `${replicas} ready pods`);
    const first = new Set((await pods()).map((p) => p.metadata?.name ?? ''));
    // Served through the Service before the update starts.
    await waitFor(async () => (await fetch(`http://127.0.0.1:${nodePort}/`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false)), 'the NodePort answering');

    const load = startLoad(`http://127.0.0.1:${nodePort}/`, { everyMs: 10, maxRequests: Math.ceil(o.timeoutMs / 10) });
    const t0 = Date.now();
    // The rolling update, as `skiff set image` does it: the stored object with the new image.
    const d = unwrapAs('Deployment', await api.get({ kind: 'Deployment', namespace: 'default', name: 'web' }));
    const container = d.spec?.template?.spec?.containers[0];
    if (!container) throw new Error('the Deployment lost its container');
    container.image = 'skiff/hello:2';
    await api.update({ object: wrap('Deployment', d) });
    const readyAt = new Map<string, number>();
    await waitFor(async () => {
      const now = (await pods()).filter((p) => !first.has(p.metadata?.name ?? ''));
      for (const p of now) if (isReady(p) && !readyAt.has(p.metadata?.name ?? '')) readyAt.set(p.metadata?.name ?? '', Date.now());
      const all = await pods();
      return readyAt.size === replicas && all.every((p) => !first.has(p.metadata?.name ?? ''));
    }, 'the rollout to replace every pod');
    const rolloutMs = Date.now() - t0;
    // A little more load after the last old pod is gone, so the last new pods are served too.
    await sleep(2000);
    const r = await load.stop();
    const firstServed = new Map<string, number>();
    for (const s of r.servedBy) if (!firstServed.has(s.pod)) firstServed.set(s.pod, s.at);
    const readyToTraffic = [...readyAt].flatMap(([name, at]) => (firstServed.has(name) ? [Math.max(0, firstServed.get(name)! - at)] : []));
    const latency = summarize(r.latenciesMs);
    const json = {
      scenario: 'service-rollout', size: o.size, skipped: false, replicas, rolloutMs,
      requests: { sent: r.sent, answered: r.ok, lost: r.failures.length, failures: r.failures.slice(0, 20) },
      requestLatencyMs: latency,
      readyToTrafficMs: { ...summarize(readyToTraffic), newPodsServed: readyToTraffic.length, newPods: readyAt.size },
      note: 'load: GET / on 127.0.0.1:NodePort every 10 ms, a fresh TCP connection each; Ready as first seen by a 50 ms API poll',
    };
    return {
      json,
      summary: [
        `service-rollout: ${replicas} replicas hello:1 -> hello:2 in ${(rolloutMs / 1000).toFixed(1)} s under load: ${r.failures.length} of ${r.sent} requests lost`,
        `  request latency p50 ${latency.p50} ms / p99 ${latency.p99} ms; pod Ready -> first request served p50 ${json.readyToTrafficMs.p50} ms / p99 ${json.readyToTrafficMs.p99} ms (${readyToTraffic.length}/${readyAt.size} new pods)`,
      ].join('\n'),
      series: [],
    };
  } finally {
    await agent?.stop();
    await agent?.runtime.close();
    api?.close();
    await bed.close();
    await containerd.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}
