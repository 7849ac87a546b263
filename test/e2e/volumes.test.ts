// Persistent volumes end to end on one real node: the built-in local-path provisioner binds a
// claim to a directory on the node of its first pod, the data outlives the pod and a Recreate
// rollout, a claim in use is kept until its pod is gone, and deleting the claim (reclaim policy
// Delete) removes the directory and the volume.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrapAs } from '../../proto/api/kinds.js';
import type { Event, Pod } from '../../proto/gen/skiff/v1/core.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../proto/gen/skiff/v1/storage.js';
import { until } from '../helpers/wait.js';
import { Cluster, execInPod, ok } from './cluster.js';

const c = new Cluster();

beforeAll(async () => {
  await c.start();
}, 400_000);

afterAll(async () => {
  await c.stop();
}, 180_000);

function podYaml(name: string, claim: string, image: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ${image}
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: ${claim}}
`;
}

const claimYaml = (name: string): string => `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: ${name}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
`;

async function claim(name: string): Promise<PersistentVolumeClaim | undefined> {
  const list = await c.api!.list({ kind: 'PersistentVolumeClaim', namespace: 'default', fieldSelector: `metadata.name=${name}` });
  return list.items.map((r) => unwrapAs('PersistentVolumeClaim', r))[0];
}

async function volumes(): Promise<PersistentVolume[]> {
  return (await c.api!.list({ kind: 'PersistentVolume', namespace: '' })).items.map((r) => unwrapAs('PersistentVolume', r));
}

async function pods(labelSelector = ''): Promise<Pod[]> {
  return (await c.api!.list({ kind: 'Pod', namespace: 'default', labelSelector })).items.map((r) => unwrapAs('Pod', r));
}

async function running(name: string): Promise<void> {
  await until(async () => (await pods()).some((p) => p.metadata?.name === name && p.status?.phase === 'Running'), 120_000, `pod ${name} Running`);
}

const exec = (pod: string, cmd: string[]): ReturnType<typeof execInPod> => execInPod(c.cri!, pod, cmd);

describe.sequential('persistent volumes on a real node', () => {
  let volumeName = '';
  const localPathDir = (): string => join(c.agentStateDir, 'volumes', 'local-path');

  it('binds a claim of the default class on its first pod\'s node; the pod writes to it', async () => {
    const image = `${c.registryHost}/skiff/hello:1`;
    ok(await c.skiff(['apply', '-f', await c.manifest('data.yaml', `${claimYaml('data')}---\n${podYaml('writer', 'data', image)}`)]), 'apply');
    await running('writer');
    const pvc = (await claim('data'))!;
    expect(pvc.spec?.storageClassName).toBe('local-path');
    expect(pvc.status?.phase).toBe('Bound');
    volumeName = pvc.spec!.volumeName;
    expect(volumeName).toBe(`pvc-${pvc.metadata!.uid}`);
    const pv = (await volumes()).find((v) => v.metadata?.name === volumeName)!;
    expect(pv.spec?.hostPath?.path).toBe(join(localPathDir(), volumeName));
    expect(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions[0]?.values).toEqual([c.nodeName]);
    ok(await exec('writer', ['sh', '-c', 'echo kept-across-pods > /data/msg']), 'write');
    expect(await readFile(join(localPathDir(), volumeName, 'msg'), 'utf8')).toBe('kept-across-pods\n');
    const table = ok(await c.skiff(['get', 'pvc,pv']), 'get pvc,pv').out;
    expect(table).toMatch(/persistentvolumeclaim\/data\s+Bound\s+pvc-\S+\s+64Mi\s+RWO\s+local-path/);
    expect(table).toMatch(/persistentvolume\/pvc-\S+\s+64Mi\s+RWO\s+Delete\s+Bound\s+default\/data\s+local-path/);
    expect(ok(await c.skiff(['get', 'sc']), 'get sc').out).toMatch(/local-path \(default\)\s+skiff\.io\/local-path\s+Delete\s+WaitForFirstConsumer/);
  }, 200_000);

  it('a replacement pod reads the data back after the first pod is deleted', async () => {
    ok(await c.skiff(['delete', 'pod', 'writer']), 'delete writer');
    ok(await c.skiff(['apply', '-f', await c.manifest('reader.yaml', podYaml('reader', 'data', `${c.registryHost}/skiff/hello:1`))]), 'apply reader');
    await running('reader');
    const r = ok(await exec('reader', ['cat', '/data/msg']), 'read');
    expect(r.out).toBe('kept-across-pods\n');
    const describe = ok(await c.skiff(['describe', 'pvc', 'data']), 'describe pvc').out;
    expect(describe).toMatch(/Used By:\s+reader/);
  }, 200_000);

  it('a pod with a missing claim stays Pending with the reason', async () => {
    ok(await c.skiff(['apply', '-f', await c.manifest('orphan.yaml', podYaml('orphan', 'nope', `${c.registryHost}/skiff/hello:1`))]), 'apply');
    await until(async () => {
      const evs = (await c.api!.list({ kind: 'Event', namespace: 'default', fieldSelector: 'involvedObject.name=orphan' })).items.map((x): Event => unwrapAs('Event', x));
      return evs.some((e) => e.reason === 'FailedScheduling' && e.message.includes('persistentvolumeclaim "nope" not found'));
    }, 60_000, 'FailedScheduling event');
    expect((await pods()).find((p) => p.metadata?.name === 'orphan')?.spec?.nodeName).toBe('');
    ok(await c.skiff(['delete', 'pod', 'orphan']), 'delete orphan');
  }, 100_000);

  it('a claim in use stays until its pod is gone; then the volume and its directory are deleted', async () => {
    ok(await c.skiff(['delete', 'pvc', 'data', '--wait=false']), 'delete pvc');
    const held = (await claim('data'))!;
    expect(held.metadata?.deletionTimestamp).not.toBe('');
    expect(held.metadata?.finalizers).toContain('kubernetes.io/pvc-protection');
    expect(existsSync(join(localPathDir(), volumeName, 'msg'))).toBe(true);
    ok(await c.skiff(['delete', 'pod', 'reader']), 'delete reader');
    await until(async () => (await claim('data')) === undefined, 60_000, 'claim gone');
    await until(async () => !(await volumes()).some((v) => v.metadata?.name === volumeName), 60_000, 'volume gone');
    expect(existsSync(join(localPathDir(), volumeName))).toBe(false);
  }, 200_000);

  it('a Recreate Deployment keeps its data across a rollout', async () => {
    const deploy = `${claimYaml('state')}---
apiVersion: apps/v1
kind: Deployment
metadata: {name: keeper}
spec:
  replicas: 1
  strategy: {type: Recreate}
  selector: {matchLabels: {app: keeper}}
  template:
    metadata: {labels: {app: keeper}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: hello
        image: ${c.registryHost}/skiff/hello:1
        volumeMounts: [{name: state, mountPath: /state}]
      volumes:
      - name: state
        persistentVolumeClaim: {claimName: state}
`;
    ok(await c.skiff(['apply', '-f', await c.manifest('keeper.yaml', deploy)]), 'apply keeper');
    ok(await c.skiff(['rollout', 'status', 'deploy/keeper', '--timeout', '2m']), 'rollout 1');
    const first = (await pods('app=keeper')).find((p) => p.status?.phase === 'Running')!;
    ok(await exec(first.metadata!.name, ['sh', '-c', 'echo revision-1 > /state/written-by']), 'write');
    ok(await c.skiff(['set', 'image', 'deploy/keeper', `hello=${c.registryHost}/skiff/hello:2`]), 'set image');
    ok(await c.skiff(['rollout', 'status', 'deploy/keeper', '--timeout', '2m']), 'rollout 2');
    const second = (await pods('app=keeper')).find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)!;
    expect(second.metadata!.name).not.toBe(first.metadata!.name);
    expect(second.spec?.containers[0]?.image).toContain('hello:2');
    expect(ok(await exec(second.metadata!.name, ['cat', '/state/written-by']), 'read').out).toBe('revision-1\n');
  }, 300_000);
});
