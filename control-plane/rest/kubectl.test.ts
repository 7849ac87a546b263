// Unmodified kubectl against the REST API of a real control plane (real etcd, the controllers
// and a fake-runtime node agent in-process). Every step checks the result through Skiff's own
// gRPC API too. kubectl is Debian's kubernetes-client (scripts/lib/deps.sh) or SKIFF_KUBECTL.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isApiError } from '../../proto/api/errors.js';
import { unwrapAs, wrap } from '../../proto/api/kinds.js';
import { createCsr } from '../../proto/api/pki/index.js';
import { CertificateSigningRequest } from '../../proto/gen/skiff/v1/certificates.js';
import { runCli } from '../../cli/program.js';
import { startRestCluster, type RestCluster } from '../../test/helpers/rest-cluster.js';
import { until } from '../../test/helpers/wait.js';

const KUBECTL = process.env.SKIFF_KUBECTL ?? 'kubectl';

let c: RestCluster;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    // A test may name its own kubeconfig first; otherwise the cluster's.
    const own = args[0]?.startsWith('--kubeconfig=');
    execFile(KUBECTL, own ? args : [`--kubeconfig=${c.kubeconfig}`, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: c.dir },
      timeout: 60_000,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const deploymentYaml = (image: string, extraEnv = ''): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: ${image}
        ports: [{containerPort: 8080}]
        env:
        - {name: A, value: "1"}${extraEnv}
`;

async function deployment(name = 'web') {
  return unwrapAs('Deployment', await c.server.api.get({ kind: 'Deployment', namespace: 'default', name }));
}

beforeAll(async () => {
  c = await startRestCluster();
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

describe('kubectl against the REST API', () => {
  it('apply creates, a changed apply patches, an unchanged apply sends nothing', async () => {
    const file = join(c.dir, 'web.yaml');
    await writeFile(file, deploymentYaml('skiff/hello:1'));
    expect(await ok('apply', '-f', file)).toContain('deployment.apps/web created');
    expect((await deployment()).spec?.template?.spec?.containers[0]?.image).toBe('skiff/hello:1');

    await writeFile(file, deploymentYaml('skiff/hello:1', '\n        - {name: B, value: "2"}'));
    expect(await ok('apply', '-f', file)).toContain('deployment.apps/web configured');
    const env = (await deployment()).spec?.template?.spec?.containers[0]?.env.map((e) => `${e.name}=${e.value}`);
    expect(env).toEqual(['A=1', 'B=2']);
    const rv = (await deployment()).metadata?.resourceVersion;

    expect(await ok('apply', '-f', file)).toContain('deployment.apps/web unchanged');
    // Nothing was written: a controller may have updated status since, so compare the spec's generation.
    expect((await deployment()).metadata?.generation).toBe(2);
    expect(rv).toBeTruthy();
  });

  it('rolls out and gets like Kubernetes', async () => {
    expect(await ok('rollout', 'status', 'deployment/web', '--timeout=60s')).toContain('successfully rolled out');
    const table = await ok('get', 'deployments');
    expect(table.split('\n')[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(table).toMatch(/web\s+2\/2\s+2\s+2\s+\d+s/);
    const pods = await ok('get', 'pods', '-o', 'wide', '-l', 'app=web');
    expect(pods.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE$/);
    expect(pods.match(/Running/g)).toHaveLength(2);
    const all = await ok('get', 'pods', '-A');
    expect(all.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+READY/);
    const names = (await ok('get', 'pods', '-o', 'name', '-l', 'app=web')).trim().split('\n');
    expect(names).toHaveLength(2);
    expect(names[0]).toMatch(/^pod\/web-/);
    const json = JSON.parse(await ok('get', 'deployment', 'web', '-o', 'json')) as { spec: { replicas: number } };
    expect(json.spec.replicas).toBe(2);
    expect(await ok('get', 'deployment', 'web', '-o', 'yaml')).toContain('kind: Deployment');
    expect(await ok('describe', 'deployment', 'web')).toMatch(/Replicas:\s+2 desired/);
  }, 90_000);

  it('apply --dry-run=server validates and writes nothing', async () => {
    const file = join(c.dir, 'dry.yaml');
    await writeFile(file, deploymentYaml('skiff/hello:1').replace('name: web\n', 'name: dry\n'));
    expect(await ok('apply', '--dry-run=server', '-f', file)).toContain('deployment.apps/dry created (server dry run)');
    const err = await c.server.api.get({ kind: 'Deployment', namespace: 'default', name: 'dry' }).catch((e: unknown) => e);
    expect(isApiError(err, 'NotFound')).toBe(true);
    await writeFile(file, deploymentYaml('skiff/hello:1').replace('name: web\n', 'name: dry\n').replace('replicas: 2', 'replicas: -1'));
    const bad = await kubectl('apply', '--dry-run=server', '-f', file);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('spec.replicas');
  });

  it('scale, set image, rollout history|undo|pause|resume|restart', async () => {
    expect(await ok('scale', 'deployment/web', '--replicas=3')).toContain('deployment.apps/web scaled');
    expect((await deployment()).spec?.replicas).toBe(3);
    expect(await ok('set', 'image', 'deployment/web', 'app=skiff/hello:2')).toContain('deployment.apps/web image updated');
    expect((await deployment()).spec?.template?.spec?.containers[0]?.image).toBe('skiff/hello:2');
    await ok('rollout', 'status', 'deployment/web', '--timeout=60s');
    const history = await ok('rollout', 'history', 'deployment/web');
    expect(history).toMatch(/REVISION\s+CHANGE-CAUSE/);
    expect(history).toMatch(/^2\s/m);
    expect(await ok('rollout', 'undo', 'deployment/web')).toContain('rolled back');
    expect((await deployment()).spec?.template?.spec?.containers[0]?.image).toBe('skiff/hello:1');
    await ok('rollout', 'status', 'deployment/web', '--timeout=60s');
    expect(await ok('rollout', 'pause', 'deployment/web')).toContain('paused');
    expect((await deployment()).spec?.paused).toBe(true);
    expect(await ok('rollout', 'resume', 'deployment/web')).toContain('resumed');
    expect((await deployment()).spec?.paused).toBe(false);
    expect(await ok('rollout', 'restart', 'deployment/web')).toContain('restarted');
    expect((await deployment()).spec?.template?.metadata?.annotations['kubectl.kubernetes.io/restartedAt']).toBeTruthy();
    await ok('rollout', 'status', 'deployment/web', '--timeout=60s');
  }, 120_000);

  it('logs of a pod, with --tail', async () => {
    await ok('run', 'logger', '--image=skiff/logger:1', '--restart=Never');
    await until(async () => (await ok('get', 'pod', 'logger', '-o', 'jsonpath={.status.phase}')) === 'Running', 30_000);
    expect(await ok('logs', 'logger')).toBe('line 1\nline 2\nline 3\n');
    expect(await ok('logs', 'logger', '--tail=1')).toBe('line 3\n');
    expect(await ok('logs', 'logger', '--timestamps', '--tail=1')).toMatch(/^\d{4}-\d\d-\d\dT\S+ line 3\n$/);
    expect(await ok('logs', 'logger', '--since=1h')).toBe('line 1\nline 2\nline 3\n');
    // -f keeps the stream open: kubectl's own request timeout ends it.
    expect((await kubectl('logs', 'logger', '-f', '--request-timeout=2s')).stdout).toBe('line 1\nline 2\nline 3\n');
    await ok('label', 'pod', 'logger', 'tier=x');
    await ok('annotate', 'pod', 'logger', 'note=y');
    await ok('patch', 'pod', 'logger', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/p","value":"json"}]');
    await ok('patch', 'pod', 'logger', '--type=merge', '-p', '{"metadata":{"labels":{"q":"merge"}}}');
    const pod = unwrapAs('Pod', await c.server.api.get({ kind: 'Pod', namespace: 'default', name: 'logger' }));
    expect(pod.metadata?.labels).toMatchObject({ tier: 'x', p: 'json', q: 'merge' });
    expect(pod.metadata?.annotations.note).toBe('y');
    expect(await ok('api-resources', '--api-group=apps')).toMatch(/deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
  }, 60_000);

  it('get -w streams changes', async () => {
    const watching = kubectl('get', 'deployments', '-w', '--request-timeout=4s');
    await new Promise((r) => setTimeout(r, 1000));
    await ok('scale', 'deployment/web', '--replicas=1');
    const r = await watching;
    expect(r.stdout.split('\n')[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE/);
    expect(r.stdout).toMatch(/web\s+\d\/1\s/);
  }, 30_000);

  it('delete waits until the object is gone; errors are Kubernetes Status', async () => {
    expect(await ok('delete', 'pod', 'logger')).toContain('pod "logger" deleted');
    const err = await c.server.api.get({ kind: 'Pod', namespace: 'default', name: 'logger' }).catch((e: unknown) => e);
    expect(isApiError(err, 'NotFound')).toBe(true);
    const missing = await kubectl('get', 'deployment', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Error from server (NotFound): deployments.apps "nope" not found');
    expect(await ok('delete', 'deployment', 'web')).toContain('deployment.apps "web" deleted');
    const gone = await c.server.api.get({ kind: 'Deployment', namespace: 'default', name: 'web' }).catch((e: unknown) => e);
    expect(isApiError(gone, 'NotFound')).toBe(true);
  }, 60_000);

  it('works with the kubeconfig `skiff config kubeconfig` writes', async () => {
    const caFile = join(c.dir, 'ca.crt');
    const out = join(c.dir, 'from-cli.kubeconfig');
    await writeFile(caFile, c.ca);
    let printed = '';
    const code = await runCli([
      'config', 'kubeconfig', '--server', `127.0.0.1:${c.server.server.port}`, '--token', c.token,
      '--rest-server', c.url, '--certificate-authority', caFile, '-o', out,
    ], { stdout: { write: (s: string) => (printed += s) }, stderr: { write: () => undefined }, env: { HOME: c.dir }, interactive: false });
    expect(code).toBe(0);
    expect(printed).toContain(`export KUBECONFIG=${out}`);
    const r = await kubectl(`--kubeconfig=${out}`, 'get', 'namespaces', '-o', 'name');
    expect(r.stdout).toContain('namespace/default');
  });

  it('auth can-i and auth whoami answer from the authorizer; --as impersonates', async () => {
    expect(await ok('auth', 'can-i', 'create', 'deployments')).toBe('yes\n');
    expect(await kubectl('auth', 'can-i', 'create', 'deployments', '--as', 'bob')).toMatchObject({ code: 1, stdout: 'no\n' });
    expect(await kubectl('auth', 'can-i', 'get', '/version', '--as', 'bob')).toMatchObject({ code: 0, stdout: 'yes\n' });
    const who = await ok('auth', 'whoami', '--as', 'bob', '--as-group', 'team');
    expect(who).toMatch(/Username\s+bob/);
    expect(who).toMatch(/Groups\s+\[team system:authenticated\]/);
    const refused = await kubectl('delete', 'deployment', 'nothing-here', '--as', 'bob');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Error from server (Forbidden): deployments.apps "nothing-here" is forbidden: User "bob" cannot delete resource "deployments" in API group "apps" in the namespace "default"');
  });

  it('get csr, certificate approve (a protobuf body) and approval by kubectl patch --subresource=approval', async () => {
    const { csr } = await createCsr({ commonName: 'alice', organizations: ['dev'] });
    await c.server.api.create({ object: wrap('CertificateSigningRequest', CertificateSigningRequest.fromPartial({
      metadata: { name: 'alice-cert' },
      spec: { request: Buffer.from(csr), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'] },
    })) });
    expect(await ok('get', 'csr')).toMatch(/alice-cert\s+\S+\s+kubernetes\.io\/kube-apiserver-client\s+\S+\s+<none>\s+Pending/);
    expect(await ok('certificate', 'approve', 'alice-cert')).toContain('certificatesigningrequest.certificates.k8s.io/alice-cert approved');
    const got = unwrapAs('CertificateSigningRequest', await c.server.api.get({ kind: 'csr', name: 'alice-cert' }));
    expect(got.status?.conditions.map((x) => [x.type, x.status, x.reason])).toEqual([['Approved', 'True', 'KubectlApprove']]);
    expect(await ok('get', 'csr', 'alice-cert')).toMatch(/Approved/);
    // A verdict is never taken back: deny after approve is refused.
    expect((await kubectl('certificate', 'deny', 'alice-cert')).code).not.toBe(0);
    await c.server.api.create({ object: wrap('CertificateSigningRequest', CertificateSigningRequest.fromPartial({
      metadata: { name: 'bob-cert' },
      spec: { request: Buffer.from((await createCsr({ commonName: 'bob' })).csr), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'] },
    })) });
    await ok('patch', 'csr', 'bob-cert', '--subresource=approval', '--type=merge', '-p', '{"status":{"conditions":[{"type":"Denied","status":"True","reason":"KubectlPatch"}]}}');
    expect(await ok('get', 'csr', 'bob-cert')).toMatch(/Denied/);
  });
});
