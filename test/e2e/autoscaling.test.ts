// Autoscaling end to end on one real node: the agent samples container CPU through CRI
// ListContainerStats, the control plane serves PodMetrics/NodeMetrics from those samples, and
// the HPA controller scales a Deployment of the CPU-burning sample image when load comes in
// through its NodePort (127.0.0.1 only, a bounded number of requests), then back down after
// the shortened scale-down window of its behavior. Figures (time to scale up, CPU accuracy
// against the container's cgroup) are printed, not asserted as timings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrapAs } from '../../proto/api/kinds.js';
import type { PodMetrics } from '../../proto/gen/skiff/v1/metrics.js';
import { startLoad } from '../helpers/load.js';
import { until } from '../helpers/wait.js';
import { Cluster, execInPod, ok } from './cluster.js';

const c = new Cluster({
  agentArgs: ['--stats-interval', '5'],
  controlPlaneArgs: ['--horizontal-pod-autoscaler-sync-period', '5'],
});

const burnerYaml = (registry: string): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: burner}
spec:
  replicas: 1
  selector: {matchLabels: {app: burner}}
  template:
    metadata: {labels: {app: burner}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: burner
        image: ${registry}/skiff/burner:1
        ports: [{name: http, containerPort: 8080}]
        resources: {requests: {cpu: 100m}}
        readinessProbe:
          httpGet: {path: /health, port: 8080}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: burner}
spec:
  type: NodePort
  selector: {app: burner}
  ports: [{name: http, port: 80, targetPort: http}]
`;

const hpaYaml = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: burner}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: burner}
  minReplicas: 1
  maxReplicas: 4
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 20
      policies: [{type: Percent, value: 100, periodSeconds: 15}]
`;

async function podMetrics(): Promise<PodMetrics[]> {
  const list = await c.api!.list({ kind: 'PodMetrics', namespace: 'default', labelSelector: 'app=burner' });
  return list.items.map((r) => unwrapAs('PodMetrics', r));
}

async function replicas(): Promise<number> {
  return unwrapAs('Deployment', await c.api!.get({ kind: 'Deployment', namespace: 'default', name: 'burner' })).spec?.replicas ?? 0;
}

/**
 * CPU time of the container's cgroup in microseconds, as the container sees its own cgroup:
 * cpu.stat usage_usec on cgroup v2, cpuacct.usage (nanoseconds) on cgroup v1.
 */
async function cgroupUsageUsec(pod: string): Promise<number> {
  const script = 'if [ -f /sys/fs/cgroup/cpu.stat ]; then cat /sys/fs/cgroup/cpu.stat; '
    + 'else echo "usage_usec $(( $(cat /sys/fs/cgroup/cpuacct/cpuacct.usage) / 1000 ))"; fi';
  const r = await execInPod(c.cri!, pod, ['sh', '-c', script]);
  const m = /^usage_usec (\d+)$/m.exec(r.out);
  if (!m) throw new Error(`no usage_usec in cpu.stat of ${pod}: ${r.out}${r.err}`);
  return Number(m[1]);
}

const nanocores = (q: string | undefined): number => Number((q ?? '0').replace(/n$/, ''));

beforeAll(async () => {
  await c.start();
  ok(await c.skiff(['apply', '-f', await c.manifest('burner.yaml', burnerYaml(c.registryHost))]), 'apply');
  const r = await c.skiff(['rollout', 'status', 'deploy/burner', '--timeout', '3m']);
  if (r.code !== 0) throw new Error(`rollout: ${r.out}${r.err}\n${await c.logs()}`);
}, 400_000);

afterAll(async () => {
  await c.stop();
}, 180_000);

describe.sequential('autoscaling on a real node', () => {
  let pod = '';

  it('serves PodMetrics and NodeMetrics, and skiff top shows them', async () => {
    await until(async () => (await podMetrics()).length === 1, 60_000, 'PodMetrics of the burner pod');
    pod = (await podMetrics())[0]!.metadata!.name;
    const pods = ok(await c.skiff(['top', 'pods', '-l', 'app=burner', '--containers']), 'top pods').out;
    expect(pods).toMatch(new RegExp(`^POD\\s+NAME\\s+CPU\\(cores\\)\\s+MEMORY\\(bytes\\)\\n${pod}\\s+burner\\s+\\d+m\\s+\\d+Mi\\n$`));
    const nodes = ok(await c.skiff(['top', 'nodes']), 'top nodes').out;
    expect(nodes).toMatch(new RegExp(`^NAME\\s+CPU\\(cores\\)\\s+CPU%\\s+MEMORY\\(bytes\\)\\s+MEMORY%\\n${c.nodeName}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%\\n$`));
  }, 120_000);

  it('reports CPU use that agrees with the container cgroup\'s own counter', async () => {
    // A steady busy loop for 40 s; compare the average of the metrics samples taken inside
    // [t1, t2] with the cgroup's own rate over [t1, t2].
    void execInPod(c.cri!, pod, ['sh', '-c', 'timeout 40 sh -c "while :; do :; done"; true'], 60).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 12_000));
    const u1 = await cgroupUsageUsec(pod);
    const t1 = Date.now();
    const samples = new Map<string, number>();
    while (Date.now() - t1 < 20_000) {
      const m = (await podMetrics())[0];
      if (m && Date.parse(m.timestamp) - Number.parseFloat(m.window) * 1000 >= t1 - 1000) samples.set(m.timestamp, nanocores(m.containers[0]?.usage.cpu));
      await new Promise((r) => setTimeout(r, 1000));
    }
    const u2 = await cgroupUsageUsec(pod);
    const t2 = Date.now();
    const cgroupCores = (u2 - u1) / 1000 / (t2 - t1);
    const metricCores = [...samples.values()].reduce((a, b) => a + b, 0) / Math.max(1, samples.size) / 1e9;
    const error = Math.abs(metricCores - cgroupCores) / cgroupCores;
    console.log(`CPU accuracy: metrics ${metricCores.toFixed(3)} cores (${samples.size} samples) vs cgroup usage_usec ${cgroupCores.toFixed(3)} cores over ${((t2 - t1) / 1000).toFixed(1)} s: ${(error * 100).toFixed(1)}% apart`);
    expect(samples.size).toBeGreaterThan(0);
    // The loop must have had a measurable share of a core for the comparison to mean anything;
    // on a machine loaded by other work that share can be well under half a core.
    expect(cgroupCores).toBeGreaterThan(0.05);
    expect(error).toBeLessThan(0.25);
    // Let the loop end and the figures settle before the autoscaler looks.
    await until(async () => nanocores((await podMetrics())[0]?.containers[0]?.usage.cpu) < 50_000_000, 90_000, 'burner idle again');
  }, 180_000);

  it('scales 1 -> N under load through the Service, then back to 1 after the scale-down window', async () => {
    // Starts from an idle burner even when the test before stopped early with its loop running.
    await until(async () => nanocores((await podMetrics())[0]?.containers[0]?.usage.cpu) < 50_000_000, 90_000, 'burner idle');
    ok(await c.skiff(['apply', '-f', await c.manifest('hpa.yaml', hpaYaml)]), 'apply hpa');
    await until(async () => /cpu: \d+%\/50%/.test((await c.skiff(['get', 'hpa', 'burner'])).out), 60_000, 'HPA shows a CPU figure');
    expect(await replicas()).toBe(1);
    const svc = unwrapAs('Service', await c.api!.get({ kind: 'Service', namespace: 'default', name: 'burner' }));
    const nodePort = svc.spec?.ports[0]?.nodePort ?? 0;
    // 100 ms of CPU every 100 ms: about one core of demand, ten times the 100m request.
    const started = Date.now();
    const load = startLoad(`http://127.0.0.1:${nodePort}/cgi-bin/burn?ms=100`, { everyMs: 100, maxRequests: 1500, timeoutMs: 10_000 });
    let scaledAt = 0;
    try {
      await until(async () => (await replicas()) > 1, 120_000, 'scaled above 1 replica');
      scaledAt = Date.now();
      await until(async () => {
        const d = unwrapAs('Deployment', await c.api!.get({ kind: 'Deployment', namespace: 'default', name: 'burner' }));
        return (d.status?.readyReplicas ?? 0) > 1;
      }, 120_000, 'more than one ready replica');
    } finally {
      const result = await load.stop();
      console.log(`load: ${result.ok}/${result.sent} ok; scale-up decided ${((scaledAt - started) / 1000).toFixed(1)} s after load start; replicas ${await replicas()}`);
    }
    const got = ok(await c.skiff(['get', 'hpa']), 'get hpa').out;
    expect(got).toMatch(/^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\n/);
    expect(got).toMatch(/burner\s+Deployment\/burner\s+cpu: \d+%\/50%\s+1\s+4\s+\d\s+/);
    const described = ok(await c.skiff(['describe', 'hpa', 'burner']), 'describe hpa').out;
    expect(described).toMatch(/SuccessfulRescale\s+.*New size: \d; reason: cpu resource utilization \(percentage of request\) above target/);
    expect(described).toMatch(/AbleToScale\s+True/);
    expect(described).toMatch(/ScalingActive\s+True\s+ValidMetricFound/);
    // Idle now: after the 20 s window the autoscaler goes back to minReplicas.
    const idleFrom = Date.now();
    await until(async () => (await replicas()) === 1, 180_000, 'scaled back to 1 replica');
    console.log(`scale-down to 1 replica ${((Date.now() - idleFrom) / 1000).toFixed(1)} s after the load stopped`);
    expect(ok(await c.skiff(['describe', 'hpa', 'burner']), 'describe hpa').out).toMatch(/New size: 1; reason: All metrics below target/);
  }, 480_000);
});
