// Services end to end on one real node: the control plane allocates a ClusterIP and NodePort,
// the EndpointSlice controller follows the pods, the agent's nftables proxy and cluster DNS
// serve them. Traffic goes only to 127.0.0.1 and to pod and service addresses of this
// cluster's own bridge and rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrapAs } from '../../proto/api/kinds.js';
import type { Pod, Service } from '../../proto/gen/skiff/v1/core.js';
import type { EndpointSlice } from '../../proto/gen/skiff/v1/discovery.js';
import { startLoad } from '../helpers/load.js';
import { until } from '../helpers/wait.js';
import { Cluster, execInPod, ok } from './cluster.js';

const c = new Cluster();

function helloYaml(registry: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: hello, labels: {app: hello}}
spec:
  replicas: 3
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: hello
        image: ${registry}/skiff/hello:1
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /health, port: 8080}
          periodSeconds: 1
          failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata: {name: hello}
spec:
  type: NodePort
  selector: {app: hello}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: hello-headless}
spec:
  clusterIP: None
  selector: {app: hello}
  ports: [{name: http, port: 8080}]
`;
}

async function get<K extends 'Service' | 'EndpointSlice' | 'Pod'>(kind: K, labelSelector = ''): Promise<(K extends 'Service' ? Service : K extends 'Pod' ? Pod : EndpointSlice)[]> {
  const list = await c.api!.list({ kind, namespace: 'default', labelSelector });
  return list.items.map((r) => unwrapAs(kind, r)) as never;
}

const readyPod = (p: Pod): boolean => !p.metadata?.deletionTimestamp && (p.status?.conditions.some((x) => x.type === 'Ready' && x.status === 'True') ?? false);

async function readyEndpoints(service: string): Promise<string[]> {
  const slices = await get('EndpointSlice', `kubernetes.io/service-name=${service}`);
  return slices.flatMap((s) => s.endpoints.filter((e) => e.conditions?.ready).map((e) => e.addresses[0] ?? '')).sort();
}

const exec = (pod: string, cmd: string[]): ReturnType<typeof execInPod> => execInPod(c.cri!, pod, cmd);

/**
 * GET / from inside a pod. With nc: Debian's busybox-static wget crashes (SIGSEGV) even on the
 * host, so the sample images cannot use it.
 */
async function getFromPod(pod: string, host: string, port: number): Promise<{ code: number; pod: string; err: string }> {
  const r = await exec(pod, ['sh', '-c', `printf 'GET / HTTP/1.0\\r\\nHost: ${host}\\r\\n\\r\\n' | nc -w 5 ${host} ${port}`]);
  const body = r.out.split('\r\n\r\n')[1] ?? '';
  return { code: r.code, pod: r.code === 0 && body ? (JSON.parse(body) as { pod: string }).pod : '', err: r.err || r.out };
}

async function podNameVia(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return ((await res.json()) as { pod: string }).pod;
}

beforeAll(async () => {
  await c.start();
  ok(await c.skiff(['apply', '-f', await c.manifest('hello.yaml', helloYaml(c.registryHost))]), 'apply');
  const r = await c.skiff(['rollout', 'status', 'deploy/hello', '--timeout', '3m']);
  if (r.code !== 0) throw new Error(`rollout: ${r.out}${r.err}\n${await c.logs()}`);
}, 400_000);

afterAll(async () => {
  await c.stop();
}, 180_000);

describe.sequential('Services on a real node', () => {
  let svc: Service;
  let nodePort = 0;
  let ready: Pod[] = [];

  it('allocates a ClusterIP in the range and a NodePort, and slices list every ready pod', async () => {
    svc = (await get('Service')).find((s) => s.metadata?.name === 'hello')!;
    nodePort = svc.spec?.ports[0]?.nodePort ?? 0;
    const [lo, hi] = c.nodePortRange.split('-').map(Number) as [number, number];
    expect(nodePort).toBeGreaterThanOrEqual(lo);
    expect(nodePort).toBeLessThanOrEqual(hi);
    expect(svc.spec?.clusterIP.split('.').slice(0, 2).join('.')).toBe(c.serviceCIDR.split('.').slice(0, 2).join('.'));
    ready = (await get('Pod', 'app=hello')).filter(readyPod);
    expect(ready).toHaveLength(3);
    await until(async () => (await readyEndpoints('hello')).join() === ready.map((p) => p.status!.podIP).sort().join(), 60_000, 'slice lists the 3 ready pods');
    const wide = ok(await c.skiff(['get', 'svc', 'hello', '-o', 'wide']), 'get svc').out;
    expect(wide).toContain(`80:${nodePort}/TCP`);
  });

  it('spreads NodePort requests on 127.0.0.1 over every ready replica', async () => {
    const names = ready.map((p) => p.metadata!.name).sort();
    const seen = new Set<string>();
    await until(async () => {
      seen.add(await podNameVia(`http://127.0.0.1:${nodePort}/`).catch(() => ''));
      return names.every((n) => seen.has(n));
    }, 60_000, `NodePort ${nodePort} answered by every replica`);
    seen.delete('');
    expect([...seen].sort()).toEqual(names);
  });

  it('reaches the ClusterIP from a pod, including its own endpoint (hairpin), and resolves names', async () => {
    const me = ready[0]!.metadata!.name;
    const answeredBy = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const r = await getFromPod(me, svc.spec!.clusterIP, 80);
      expect(r.code, r.err).toBe(0);
      answeredBy.add(r.pod);
    }
    expect(answeredBy.has(me)).toBe(true);
    // busybox's nslookup applies no search list to dotted names (it would forward "hello.default"
    // upstream), so it only asks the full name; nc resolves through the libc resolver, which
    // walks the pod's search list (ndots:5) and never leaves the cluster domain for these.
    const found = await exec(me, ['nslookup', 'hello.default.svc.cluster.local']);
    expect(found.out).toMatch(new RegExp(`Name:\\s+hello\\.default\\.svc\\.cluster\\.local\\nAddress:\\s+${svc.spec!.clusterIP.replaceAll('.', '\\.')}\\n`));
    for (const name of ['hello', 'hello.default', 'hello.default.svc.cluster.local']) {
      const r = await getFromPod(me, name, 80);
      expect(r.code, `${name}: ${r.err}`).toBe(0);
      expect(ready.map((p) => p.metadata!.name)).toContain(r.pod);
    }
    const headless = await exec(me, ['nslookup', 'hello-headless.default.svc.cluster.local']);
    expect(headless.code, headless.err).toBe(0);
    for (const p of ready) expect(headless.out).toContain(p.status!.podIP);
  });

  it('never sends requests to a pod that is not ready', async () => {
    const sick = ready[1]!;
    // Its readiness probe fails from now on: the endpoint turns not ready, the proxy drops it.
    expect((await exec(sick.metadata!.name, ['rm', '/tmp/www/health'])).code).toBe(0);
    await until(async () => !(await readyEndpoints('hello')).includes(sick.status!.podIP), 60_000, 'endpoint not ready');
    // The proxy syncs within its debounce; give it that, then no request may reach the pod.
    await until(async () => {
      const names = new Set<string>();
      for (let i = 0; i < 20; i++) names.add(await podNameVia(`http://127.0.0.1:${nodePort}/`));
      return !names.has(sick.metadata!.name);
    }, 30_000, 'proxy stopped using the not-ready pod');
    for (let i = 0; i < 60; i++) expect(await podNameVia(`http://127.0.0.1:${nodePort}/`)).not.toBe(sick.metadata!.name);
  });

  it('drops no request through a rolling update, a scale down and a rollout undo', async () => {
    const rollout = async (): Promise<void> => {
      const r = await c.skiff(['rollout', 'status', 'deploy/hello', '--timeout', '3m']);
      if (r.code !== 0) throw new Error(`rollout: ${r.out}${r.err}`);
    };
    // The pod the test before made unready answers its probe again.
    expect((await exec(ready[1]!.metadata!.name, ['sh', '-c', 'echo ok > /tmp/www/health'])).code).toBe(0);
    ok(await c.skiff(['scale', 'deploy/hello', '--replicas', '6']), 'scale 6');
    await rollout();
    await until(async () => (await readyEndpoints('hello')).length === 6, 60_000, '6 ready endpoints');
    // Bounded: at most 100 requests/s for at most 3 minutes, to 127.0.0.1 only.
    const load = startLoad(`http://127.0.0.1:${nodePort}/`, { everyMs: 10, maxRequests: 18_000 });
    ok(await c.skiff(['set', 'image', 'deploy/hello', `hello=${c.registryHost}/skiff/hello:2`]), 'set image');
    await rollout();
    ok(await c.skiff(['scale', 'deploy/hello', '--replicas', '2']), 'scale 2');
    await until(async () => (await get('Pod', 'app=hello')).length === 2, 120_000, 'down to 2 pods');
    ok(await c.skiff(['rollout', 'undo', 'deploy/hello']), 'undo');
    await rollout();
    await until(async () => (await get('Pod', 'app=hello')).length === 2, 120_000, 'old pods gone after the undo');
    const r = await load.stop();
    console.log(`no-drop load: ${r.ok}/${r.sent} answered, ${r.failures.length} failed`);
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(r.sent);
  }, 400_000);

  it('deleting the Service removes its rules and its name', async () => {
    const me = (await get('Pod', 'app=hello')).find(readyPod)!.metadata!.name;
    const lookup = (): Promise<{ code: number; out: string }> => exec(me, ['nslookup', 'hello.default.svc.cluster.local']);
    expect((await lookup()).out).toContain(svc.spec!.clusterIP);
    ok(await c.skiff(['delete', 'svc', 'hello']), 'delete svc');
    await until(async () => {
      try {
        await fetch(`http://127.0.0.1:${nodePort}/`, { signal: AbortSignal.timeout(2000) });
        return false;
      } catch {
        return true;
      }
    }, 30_000, 'NodePort closed');
    await until(async () => {
      const r = await lookup();
      return r.code !== 0 && r.out.includes("can't find hello.default.svc.cluster.local: NXDOMAIN");
    }, 30_000, 'name gone');
  });
});
