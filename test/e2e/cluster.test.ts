// End-to-end on real containers: a real etcd, registry and containerd (CRI + CNI), the compiled
// control plane and node agent, driven by the compiled `skiff` binary. The scenarios build on
// each other (one cluster, one hello Deployment through its life), so they run in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consume } from '../../cli/client.js';
import { unwrapAs } from '../../proto/api/kinds.js';
import type { Deployment, ReplicaSet } from '../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { LABEL_POD_NAME } from '../../node-agent/runtime/labels.js';
import { until } from '../helpers/wait.js';
import { Cluster, ok } from './cluster.js';

const GREETING1 = 'Hello from Skiff e2e';
const GREETING2 = 'Hello again, rolled out';
const REPLICAS = 3;
const MAX_SURGE = 1;
const MAX_UNAVAILABLE = 0;

function helloYaml(registry: string, greeting: string, replicas = REPLICAS): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  labels: {app: hello}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: hello}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: ${MAX_SURGE}, maxUnavailable: ${MAX_UNAVAILABLE}}
  template:
    metadata:
      labels: {app: hello}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: hello
        image: ${registry}/skiff/hello:1
        env:
        - {name: GREETING, value: "${greeting}"}
        ports:
        - {containerPort: 8080}
        readinessProbe:
          httpGet: {path: /health, port: 8080}
          periodSeconds: 1
          failureThreshold: 3
        livenessProbe:
          httpGet: {path: /health, port: 8080}
          initialDelaySeconds: 2
          periodSeconds: 5
          failureThreshold: 3
        resources:
          requests: {cpu: 10m, memory: 16Mi}
          limits: {cpu: 200m, memory: 64Mi}
`;
}

function crasherYaml(registry: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: crasher
  labels: {app: crasher}
spec:
  replicas: 1
  # Without it the pod counts as available for the moment between each start and its crash, and
  # a rollout status that looks then rightly reports success, as kubectl's would: the pod is
  # Ready and the Deployment complete. 10 s is far more than the crash takes, so it never is.
  minReadySeconds: 10
  selector: {matchLabels: {app: crasher}}
  template:
    metadata:
      labels: {app: crasher}
    spec:
      containers:
      - name: crasher
        image: ${registry}/skiff/crasher:1
        env:
        - {name: CRASH_AFTER, value: "0"}
`;
}

const c = new Cluster();


async function pods(app: string): Promise<Pod[]> {
  const api = c.api;
  if (!api) throw new Error('cluster not started');
  const list = await api.list({ kind: 'Pod', namespace: 'default', labelSelector: `app=${app}` });
  return list.items.map((r) => unwrapAs('Pod', r));
}

const live = (p: Pod): boolean => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
const ready = (p: Pod): boolean => p.status?.conditions.some((x) => x.type === 'Ready' && x.status === 'True') ?? false;

async function greetingOf(p: Pod): Promise<string> {
  const res = await fetch(`http://${p.status?.podIP ?? ''}:8080/`, { signal: AbortSignal.timeout(5000) });
  return ((await res.json()) as { msg: string }).msg;
}

/** Every live pod of hello answers with `greeting` on its own IP, and there are `n` of them. */
async function expectServing(greeting: string, n: number): Promise<void> {
  const ps = (await pods('hello')).filter(live);
  expect(ps).toHaveLength(n);
  for (const p of ps) {
    expect(p.status?.phase).toBe('Running');
    expect(ready(p)).toBe(true);
    expect(p.status?.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await greetingOf(p)).toBe(greeting);
  }
}

async function replicaSets(): Promise<ReplicaSet[]> {
  const list = await c.api?.list({ kind: 'ReplicaSet', namespace: 'default', labelSelector: 'app=hello' });
  return (list?.items ?? []).map((r) => unwrapAs('ReplicaSet', r));
}

async function deployment(name: string): Promise<Deployment> {
  return unwrapAs('Deployment', await c.api?.get({ kind: 'Deployment', namespace: 'default', name }));
}

/** Sandboxes and containers containerd still holds for pods whose name starts with `prefix`. */
async function runtimeLeftovers(prefix: string): Promise<{ sandboxes: string[]; containers: string[] }> {
  const cri = c.cri;
  if (!cri) throw new Error('cluster not started');
  const { items } = await cri.rt('listPodSandbox', {}, 10_000);
  const { containers } = await cri.rt('listContainers', {}, 10_000);
  const sandboxes = items.filter((s) => s.metadata?.name.startsWith(prefix));
  const ids = new Set(sandboxes.map((s) => s.id));
  return {
    sandboxes: sandboxes.map((s) => `sandbox ${s.metadata?.name ?? ''} ${s.id}`),
    containers: containers
      .filter((x) => ids.has(x.podSandboxId) || (x.labels[LABEL_POD_NAME] ?? '').startsWith(prefix))
      .map((x) => `container ${x.metadata?.name ?? ''} ${x.id}`),
  };
}

const nothingLeft = async (prefix: string): Promise<boolean> => {
  const r = await runtimeLeftovers(prefix);
  return r.sandboxes.length === 0 && r.containers.length === 0;
};

beforeAll(async () => {
  await c.start();
}, 300_000);

afterAll(async () => {
  await c.stop();
}, 180_000);

describe.sequential('skiff on real containers', () => {
  const rollout = async (name: string): Promise<void> => {
    const r = await c.skiff(['rollout', 'status', `deploy/${name}`, '--timeout', '3m']);
    if (r.code !== 0) throw new Error(`rollout status exited ${r.code}: ${r.out}${r.err}\n${await c.logs()}`);
  };

  it('(1) applies hello with 3 replicas: all Running and Ready, each answering on its pod IP', async () => {
    ok(await c.skiff(['apply', '-f', await c.manifest('hello-1.yaml', helloYaml(c.registryHost, GREETING1))]), 'apply');
    await rollout('hello');
    await expectServing(GREETING1, REPLICAS);
    const table = ok(await c.skiff(['get', 'pods', '-l', 'app=hello']), 'get pods').out;
    expect(table.split('\n').filter((l) => /\bRunning\b/.test(l) && /\b1\/1\b/.test(l))).toHaveLength(REPLICAS);
    // Logs travel CLI -> control plane -> the node agent -> the container's CRI log file.
    const logs = ok(await c.skiff(['logs', 'deploy/hello', '--tail', '5']), 'logs').out;
    expect(logs).toContain('hello v1 listening on :8080');
  }, 300_000);

  it('(2) rolls out a new GREETING within maxSurge/maxUnavailable at every event', async () => {
    const api = c.api;
    if (!api) throw new Error('cluster not started');
    const list = await api.list({ kind: 'Pod', namespace: 'default', labelSelector: 'app=hello' });
    const seen = new Map<string, Pod>(list.items.map((r) => unwrapAs('Pod', r)).map((p) => [p.metadata?.name ?? '', p]));
    const violations: string[] = [];
    let events = 0;
    const stream = api.watch({ kind: 'Pod', namespace: 'default', labelSelector: 'app=hello', resourceVersion: list.resourceVersion });
    const watching = consume(api, stream, (ev) => {
      const p = unwrapAs('Pod', ev.object);
      const name = p.metadata?.name ?? '';
      if (ev.type === 'DELETED') seen.delete(name);
      else seen.set(name, p);
      events++;
      const all = [...seen.values()].filter(live);
      const available = all.filter(ready).length;
      if (all.length > REPLICAS + MAX_SURGE) violations.push(`event ${events} (${ev.type} ${name}): ${all.length} pods > ${REPLICAS + MAX_SURGE}`);
      if (available < REPLICAS - MAX_UNAVAILABLE) violations.push(`event ${events} (${ev.type} ${name}): ${available} available < ${REPLICAS - MAX_UNAVAILABLE}`);
    });
    ok(await c.skiff(['apply', '-f', await c.manifest('hello-2.yaml', helloYaml(c.registryHost, GREETING2))]), 'apply');
    await rollout('hello');
    // Old pods finish terminating after the rollout is complete; let the watcher see that too.
    await until(async () => (await pods('hello')).length === REPLICAS, 60_000, 'old pods gone');
    stream.cancel();
    await watching;
    expect(events).toBeGreaterThan(REPLICAS);
    expect(violations).toEqual([]);
    await expectServing(GREETING2, REPLICAS);
  }, 300_000);

  it('(3) rollout undo brings the old greeting back on the old ReplicaSet', async () => {
    const before = await replicaSets();
    expect(before).toHaveLength(2);
    const d = await deployment('hello');
    const current = before.find((rs) => rs.metadata?.annotations['deployment.kubernetes.io/revision'] === d.metadata?.annotations['deployment.kubernetes.io/revision']);
    const old = before.find((rs) => rs !== current);
    expect(old).toBeDefined();
    ok(await c.skiff(['rollout', 'undo', 'deploy/hello']), 'rollout undo');
    await rollout('hello');
    await until(async () => (await pods('hello')).length === REPLICAS, 60_000, 'pods of the undone revision gone');
    const after = await replicaSets();
    expect(after.map((rs) => rs.metadata?.name).sort()).toEqual(before.map((rs) => rs.metadata?.name).sort());
    const hash = old?.metadata?.labels['pod-template-hash'];
    for (const p of (await pods('hello')).filter(live)) expect(p.metadata?.labels['pod-template-hash']).toBe(hash);
    expect(after.find((rs) => rs.metadata?.name === old?.metadata?.name)?.spec?.replicas).toBe(REPLICAS);
    await expectServing(GREETING1, REPLICAS);
  }, 300_000);

  it('(4) a container killed from outside is restarted, restartCount 1', async () => {
    const cri = c.cri;
    if (!cri) throw new Error('cluster not started');
    const victim = (await pods('hello')).filter(live)[0];
    const name = victim?.metadata?.name ?? '';
    const cs = victim?.status?.containerStatuses[0];
    expect(cs?.restartCount).toBe(0);
    const containerId = (cs?.containerID ?? '').replace(/^[a-z]+:\/\//, '');
    const st = await cri.rt('containerStatus', { containerId, verbose: true }, 10_000);
    const pid = (JSON.parse(st.info.info ?? '{}') as { pid?: number }).pid;
    expect(pid).toBeGreaterThan(1);
    process.kill(pid ?? 0, 'SIGKILL');
    let latest: Pod | undefined;
    await until(async () => {
      latest = (await pods('hello')).find((p) => p.metadata?.name === name);
      const s = latest?.status?.containerStatuses[0];
      return (s?.restartCount ?? 0) >= 1 && s?.ready === true && !!latest && ready(latest);
    }, 90_000, `${name} restarted and ready`);
    const s = latest?.status?.containerStatuses[0];
    expect(s?.restartCount).toBe(1);
    expect(s?.lastState?.terminated?.exitCode).toBe(137);
    expect(latest && (await greetingOf(latest))).toBe(GREETING1);
  }, 180_000);

  it('(7) scale 3 -> 10 -> 2 converges', async () => {
    ok(await c.skiff(['scale', 'deploy/hello', '--replicas', '10']), 'scale 10');
    await rollout('hello');
    await until(async () => (await pods('hello')).filter((p) => live(p) && ready(p)).length === 10, 120_000, '10 ready pods');
    await expectServing(GREETING1, 10);
    ok(await c.skiff(['scale', 'deploy/hello', '--replicas', '2']), 'scale 2');
    await rollout('hello');
    await until(async () => (await pods('hello')).length === 2, 120_000, 'down to 2 pods');
    await until(async () => (await runtimeLeftovers('hello-')).sandboxes.length === 2, 60_000, 'containerd holds the 2 sandboxes left');
    await expectServing(GREETING1, 2);
    const d = await deployment('hello');
    expect(d.status?.replicas).toBe(2);
    expect(d.status?.availableReplicas).toBe(2);
  }, 400_000);

  it('(6) deleting the Deployment leaves no pod, sandbox or container in containerd', async () => {
    ok(await c.skiff(['delete', 'deploy', 'hello']), 'delete');
    await until(async () => (await pods('hello')).length === 0, 60_000, 'no hello pods');
    await until(async () => (await replicaSets()).length === 0, 60_000, 'no hello ReplicaSets');
    await until(() => nothingLeft('hello-'), 60_000, 'no hello sandboxes or containers in containerd');
    expect(await runtimeLeftovers('hello-')).toEqual({ sandboxes: [], containers: [] });
  }, 180_000);

  it('(5) a crashing container shows CrashLoopBackOff with its exit code; rollout status fails naming the pod', async () => {
    ok(await c.skiff(['apply', '-f', await c.manifest('crasher.yaml', crasherYaml(c.registryHost))]), 'apply crasher');
    let table = '';
    await until(async () => {
      table = (await c.skiff(['get', 'pods', '-l', 'app=crasher'])).out;
      return /CrashLoopBackOff \(exit 1\)/.test(table);
    }, 120_000, 'get pods shows CrashLoopBackOff (exit 1)');
    const pod = (await pods('crasher'))[0]?.metadata?.name ?? '';
    expect(table).toContain(pod);
    const r = await c.skiff(['rollout', 'status', 'deploy/crasher', '--timeout', '2m']);
    expect(r.code).toBe(1);
    expect(r.err).not.toMatch(/timed out/);
    expect(r.err).toContain(pod);
    // Waiting out its back-off (CrashLoopBackOff) or running again after restarts, depending on
    // when rollout status looked; either way it names the loop and the exit code.
    expect(r.err).toMatch(/container crasher is crash-looping \((CrashLoopBackOff|restarting), exit 1 Error, [1-9]\d* restarts?\)/);
    ok(await c.skiff(['delete', 'deploy', 'crasher']), 'delete crasher');
    await until(() => nothingLeft('crasher-'), 60_000, 'no crasher sandboxes or containers');
  }, 240_000);
});
