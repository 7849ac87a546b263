// Pod lifecycle end to end on one real node (containerd, runc): an init container's output in
// an emptyDir is what the app container reads, `get pods` shows Init:0/1 while it runs, a pod
// past activeDeadlineSeconds fails with DeadlineExceeded, a Memory emptyDir is a tmpfs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrapAs } from '../../proto/api/kinds.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { until } from '../helpers/wait.js';
import { Cluster, execInPod, ok } from './cluster.js';

const c = new Cluster();

beforeAll(async () => {
  await c.start();
}, 400_000);

afterAll(async () => {
  await c.stop();
}, 180_000);

async function pod(name: string): Promise<Pod | undefined> {
  try {
    return unwrapAs('Pod', await c.api!.get({ kind: 'Pod', namespace: 'default', name }));
  } catch {
    return undefined;
  }
}

async function waitPod(name: string, cond: (p: Pod) => boolean, what: string, timeoutMs = 90_000): Promise<Pod> {
  let last: Pod | undefined;
  try {
    await until(async () => {
      last = await pod(name);
      return !!last && cond(last);
    }, timeoutMs, what);
  } catch (e) {
    throw new Error(`${(e as Error).message}; last status ${JSON.stringify(last?.status)}\n${await c.logs()}`);
  }
  return last!;
}

/** The STATUS column of `skiff get pods` for one pod. */
async function statusColumn(name: string): Promise<string> {
  const r = ok(await c.skiff(['get', 'pods']), 'get pods');
  const line = r.out.split('\n').find((l) => l.split(/\s+/)[0] === name);
  return line?.trim().split(/\s+/)[2] ?? '';
}

// The sample images' shell runs until SIGTERM, then exits 0 (a loop of short sleeps).
const idle = `trap 'exit 0' TERM; while true; do sleep 1; done`;

describe.sequential('pod lifecycle on a real node', () => {
  it('runs the init container first; its emptyDir output is what the app reads; get pods shows Init:0/1 meanwhile', async () => {
    const image = `${c.registryHost}/skiff/hello:1`;
    const yaml = `apiVersion: v1
kind: Pod
metadata: {name: init-demo}
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{name: work, emptyDir: {}}]
  initContainers:
  - name: prepare
    image: ${image}
    command: ['sh', '-c', 'sleep 6; echo prepared-by-init > /work/msg']
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: app
    image: ${image}
    command: ['sh', '-c', "cat /work/msg; ${idle}"]
    volumeMounts: [{name: work, mountPath: /work}]
`;
    ok(await c.skiff(['apply', '-f', await c.manifest('init.yaml', yaml)]), 'apply');
    await waitPod('init-demo', (p) => !!p.status?.initContainerStatuses[0]?.state?.running, 'init container running');
    expect(await statusColumn('init-demo')).toBe('Init:0/1');
    const p = await waitPod('init-demo', (x) => x.status?.phase === 'Running', 'app running');
    expect(p.status?.initContainerStatuses[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(p.status?.conditions.find((x) => x.type === 'Initialized')?.status).toBe('True');
    const r = await execInPod(c.cri!, 'init-demo', ['cat', '/work/msg']);
    expect(r.out.trim()).toBe('prepared-by-init');
    const logs = ok(await c.skiff(['logs', 'init-demo', '-c', 'app']), 'logs');
    expect(logs.out).toContain('prepared-by-init');
    expect(await statusColumn('init-demo')).toBe('Running');
  }, 180_000);

  it('mounts a Memory emptyDir as a tmpfs of its sizeLimit', async () => {
    const yaml = `apiVersion: v1
kind: Pod
metadata: {name: ram-demo}
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{name: cache, emptyDir: {medium: Memory, sizeLimit: 16Mi}}]
  containers:
  - name: app
    image: ${c.registryHost}/skiff/hello:1
    command: ['sh', '-c', "${idle}"]
    volumeMounts: [{name: cache, mountPath: /cache}]
`;
    ok(await c.skiff(['apply', '-f', await c.manifest('ram.yaml', yaml)]), 'apply');
    await waitPod('ram-demo', (p) => p.status?.phase === 'Running', 'running');
    const r = await execInPod(c.cri!, 'ram-demo', ['cat', '/proc/mounts']);
    const line = r.out.split('\n').find((l) => l.split(' ')[1] === '/cache');
    expect(line?.split(' ')[2]).toBe('tmpfs');
    expect(line).toContain('size=16384k');
  }, 180_000);

  it('fails a pod that runs past activeDeadlineSeconds with DeadlineExceeded, its container stopped', async () => {
    const yaml = `apiVersion: v1
kind: Pod
metadata: {name: deadline-demo}
spec:
  terminationGracePeriodSeconds: 2
  activeDeadlineSeconds: 5
  containers:
  - name: app
    image: ${c.registryHost}/skiff/hello:1
    command: ['sh', '-c', "${idle}"]
`;
    ok(await c.skiff(['apply', '-f', await c.manifest('deadline.yaml', yaml)]), 'apply');
    await waitPod('deadline-demo', (p) => p.status?.phase === 'Running', 'running');
    const p = await waitPod('deadline-demo', (x) => x.status?.phase === 'Failed' && !!x.status.containerStatuses[0]?.state?.terminated, 'failed by the deadline');
    expect(p.status).toMatchObject({ reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' });
    expect(await statusColumn('deadline-demo')).toBe('DeadlineExceeded');
  }, 180_000);
});
