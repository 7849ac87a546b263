// ConfigMaps, Secrets and private registries end to end on one real node: a Deployment reads a
// ConfigMap key as env and a Secret as a file (on a tmpfs), a ConfigMap change reaches the
// mounted file while env stays, the Secret is not plaintext in etcd, a pod waiting for a
// missing ConfigMap shows CreateContainerConfigError and starts once it exists, and a pull
// from a registry that needs a login fails without imagePullSecrets and works with them.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrapAs } from '../../proto/api/kinds.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { newEtcdClient } from '../../control-plane/storage/etcd-client.js';
import { until } from '../helpers/wait.js';
import { Cluster, execInPod, ok } from './cluster.js';

const REG_PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
const DB_PASSWORD = `s3cret-${randomBytes(6).toString('hex')}`;
const c = new Cluster({ authRegistry: { username: 'e2e', password: REG_PASSWORD }, encryptSecrets: true });

async function pods(label: string): Promise<Pod[]> {
  const list = await c.api!.list({ kind: 'Pod', namespace: 'default', labelSelector: label });
  return list.items.map((r) => unwrapAs('Pod', r));
}

async function pod(name: string): Promise<Pod | undefined> {
  return c.api!.get({ kind: 'Pod', namespace: 'default', name }).then((r) => unwrapAs('Pod', r), () => undefined);
}

const running = (p: Pod | undefined): boolean => !!p && p.status?.phase === 'Running' && !!p.status.containerStatuses[0]?.state?.running;
const waitingOf = (p: Pod | undefined) => p?.status?.containerStatuses[0]?.state?.waiting;

beforeAll(async () => {
  await c.start();
}, 180_000);

afterAll(async () => {
  await c.stop();
}, 120_000);

describe('ConfigMaps and Secrets in pods', () => {
  it('env from a ConfigMap, files from a Secret and a ConfigMap; the file follows changes, env does not; no plaintext in etcd', async () => {
    try {
      ok(await c.skiff(['create', 'configmap', 'app', '--from-literal', 'greeting=hi-from-cm', '--from-literal', 'mode=blue']), 'create configmap');
      ok(await c.skiff(['create', 'secret', 'generic', 'db', '--from-literal', `password=${DB_PASSWORD}`]), 'create secret');
      const got = ok(await c.skiff(['get', 'secret', 'db']), 'get secret');
      expect(got.out).toMatch(/^NAME\s+TYPE\s+DATA\s+AGE\ndb\s+Opaque\s+1\s+/);
      const described = ok(await c.skiff(['describe', 'secret', 'db']), 'describe secret').out;
      expect(described).toMatch(new RegExp(`password:\\s+${DB_PASSWORD.length} bytes`));
      expect(described).not.toContain(DB_PASSWORD);
      expect(ok(await c.skiff(['get', 'secret', 'db', '-o', 'yaml']), 'get -o yaml').out).toContain(Buffer.from(DB_PASSWORD).toString('base64'));

      const etcd = newEtcdClient([c.etcd!.endpoint]);
      try {
        const raw = await etcd.get('/skiff-e2e/registry/secrets/default/db').buffer();
        expect(raw?.subarray(0, 'k8s:enc:aesgcm:v1:e2e:'.length).toString()).toBe('k8s:enc:aesgcm:v1:e2e:');
        expect(raw?.includes(Buffer.from(DB_PASSWORD))).toBe(false);
      } finally {
        etcd.close();
      }

      const file = await c.manifest('cfg.yaml', `apiVersion: apps/v1
kind: Deployment
metadata: {name: cfg}
spec:
  replicas: 1
  selector: {matchLabels: {app: cfg}}
  template:
    metadata: {labels: {app: cfg}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: hello
        image: ${c.registryHost}/skiff/hello:1
        env:
        - name: GREETING
          valueFrom: {configMapKeyRef: {name: app, key: greeting}}
        volumeMounts:
        - {name: db, mountPath: /etc/db}
        - {name: app, mountPath: /etc/app}
      volumes:
      - name: db
        secret: {secretName: db, defaultMode: 0400}
      - name: app
        configMap: {name: app, items: [{key: mode, path: mode.txt}]}
`);
      ok(await c.skiff(['apply', '-f', file]), 'apply');
      let name = '';
      await until(async () => {
        const p = (await pods('app=cfg')).find(running);
        name = p?.metadata?.name ?? '';
        return !!p;
      }, 60_000, 'cfg pod Running');
      const sh = async (cmd: string): Promise<string> => (await execInPod(c.cri!, name, ['sh', '-c', cmd])).out.trim();
      expect(await sh('echo "$GREETING"')).toBe('hi-from-cm');
      expect(await sh('cat /etc/db/password')).toBe(DB_PASSWORD);
      expect(await sh('stat -L -c %a /etc/db/password')).toBe('400');
      expect(await sh('cat /etc/app/mode.txt')).toBe('blue');
      expect(await sh('grep " /etc/db " /proc/mounts')).toMatch(/^tmpfs \/etc\/db tmpfs ro/);
      expect(await sh('ls -a /etc/app')).toMatch(/\.\.data/);

      const cm = await c.manifest('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {greeting: changed, mode: green}\n');
      ok(await c.skiff(['apply', '-f', cm]), 'apply configmap');
      await until(async () => (await sh('cat /etc/app/mode.txt')) === 'green', 30_000, 'mounted ConfigMap file updated');
      expect(await sh('echo "$GREETING"')).toBe('hi-from-cm');
    } catch (e) {
      console.error(await c.logs(60));
      throw e;
    }
  }, 180_000);

  it('a pod that needs a missing ConfigMap waits with CreateContainerConfigError and an event, then starts once it exists', async () => {
    try {
      const file = await c.manifest('waiter.yaml', `apiVersion: v1
kind: Pod
metadata: {name: waiter}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: hello
    image: ${c.registryHost}/skiff/hello:1
    envFrom: [{configMapRef: {name: late}}]
`);
      ok(await c.skiff(['apply', '-f', file]), 'apply waiter');
      await until(async () => waitingOf(await pod('waiter'))?.reason === 'CreateContainerConfigError', 60_000, 'CreateContainerConfigError');
      expect(waitingOf(await pod('waiter'))?.message).toBe('configmap "late" not found');
      await until(async () => {
        const evs = await c.api!.list({ kind: 'Event', namespace: 'default', fieldSelector: 'involvedObject.name=waiter' });
        return evs.items.map((r) => unwrapAs('Event', r)).some((ev) => ev.type === 'Warning' && ev.reason === 'Failed' && ev.message === 'Error: configmap "late" not found');
      }, 30_000, 'Warning event naming the missing ConfigMap');
      expect(ok(await c.skiff(['get', 'pod', 'waiter']), 'get pod').out).toContain('CreateContainerConfigError');
      ok(await c.skiff(['create', 'configmap', 'late', '--from-literal', 'GREETING=late']), 'create late');
      await until(async () => running(await pod('waiter')), 30_000, 'waiter Running after its ConfigMap exists');
      expect((await execInPod(c.cri!, 'waiter', ['sh', '-c', 'echo "$GREETING"'])).out.trim()).toBe('late');
    } catch (e) {
      console.error(await c.logs(60));
      throw e;
    }
  }, 180_000);
});

describe('private registries', () => {
  it('a pull without imagePullSecrets fails with ErrImagePull naming the 401; with a docker-registry Secret it works', async () => {
    try {
      const image = `${c.authRegistry!.host}/skiff/hello:1`;
      const podYaml = (name: string, secrets: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 1
  ${secrets}
  containers:
  - {name: hello, image: "${image}"}
`;
      ok(await c.skiff(['apply', '-f', await c.manifest('nosecret.yaml', podYaml('nosecret', ''))]), 'apply nosecret');
      await until(async () => ['ErrImagePull', 'ImagePullBackOff'].includes(waitingOf(await pod('nosecret'))?.reason ?? ''), 60_000, 'ErrImagePull');
      expect(waitingOf(await pod('nosecret'))?.message).toMatch(/401 Unauthorized|unauthorized/i);

      ok(await c.skiff(['create', 'secret', 'docker-registry', 'regcred', '--docker-server', c.authRegistry!.host,
        '--docker-username', 'e2e', '--docker-password', REG_PASSWORD]), 'create docker-registry secret');
      expect(ok(await c.skiff(['get', 'secret', 'regcred']), 'get').out).toMatch(/regcred\s+kubernetes\.io\/dockerconfigjson\s+1\s+/);
      ok(await c.skiff(['apply', '-f', await c.manifest('withsecret.yaml', podYaml('withsecret', 'imagePullSecrets: [{name: regcred}]'))]), 'apply withsecret');
      await until(async () => running(await pod('withsecret')), 60_000, 'withsecret Running');
    } catch (e) {
      console.error(await c.logs(60));
      throw e;
    }
  }, 180_000);
});
