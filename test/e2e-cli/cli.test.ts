// End-to-end: the `skiff` command line (runCli, in-process, not a TTY) against a real API
// server over a real etcd. No controllers run here, so the objects a controller would write
// (ReplicaSets, pods, status) are written by the test through the API, as a controller would.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { unwrapAs, wrap } from '../../proto/api/kinds.js';
import { fromManifest, type JsonObject } from '../../proto/api/manifest.js';
import type { Deployment, ReplicaSet } from '../../proto/gen/skiff/v1/apps.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import { startTestServer, type TestServer } from '../../control-plane/api/testing.js';
import { runCli } from '../../cli/program.js';
import { testStore, type TestStore } from '../helpers/etcd-client.js';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';
import { parseTokens } from '../../control-plane/api/auth.js';
import { testTlsFiles } from '../helpers/tls.js';

const TOKEN = 'e2e-token';

interface Run {
  code: number;
  out: string;
  err: string;
}

let ts: TestStore;
let server: TestServer;
let home = '';
let env: NodeJS.ProcessEnv = {};

async function skiff(args: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: opts.env ?? env,
    interactive: false,
    readStdin: () => Promise.resolve(opts.stdin ?? ''),
  });
  return { code, out, err };
}

async function deploymentNames(namespace = ''): Promise<string[]> {
  const list = await server.api.list({ kind: 'Deployment', namespace });
  return list.items.map((r) => unwrapAs('Deployment', r).metadata?.name ?? '').sort();
}

beforeAll(async () => {
  ts = testStore();
  server = await startTestServer(ts.store, { tokens: parseTokens(`${TOKEN},tester,tester,"system:masters"`) });
  home = await mkdtemp(join(tmpdir(), 'skiff-e2e-home-'));
  env = { HOME: home, SKIFF_SERVER: `127.0.0.1:${server.server.port}`, SKIFF_TOKEN: TOKEN, SKIFF_CERTIFICATE_AUTHORITY: (await testTlsFiles()).caFile };
});

afterAll(async () => {
  await server.stop();
  await ts.close();
  await rm(home, { recursive: true, force: true });
});

describe('skiff apply / get', () => {
  it('creates, then reports unchanged, and get -o yaml shows the server defaults', async () => {
    expect(await skiff(['apply', '-f', 'deploy/examples/hello.yaml'])).toEqual({ code: 0, out: 'deployment.apps/hello created\nservice/hello created\n', err: '' });
    expect(await skiff(['apply', '-f', 'deploy/examples/hello.yaml'])).toEqual({ code: 0, out: 'deployment.apps/hello unchanged\nservice/hello unchanged\n', err: '' });

    const y = await skiff(['get', 'deploy', 'hello', '-o', 'yaml']);
    expect(y.code).toBe(0);
    const doc = parse(y.out) as JsonObject & { spec: { revisionHistoryLimit: number; progressDeadlineSeconds: number; template: { spec: JsonObject & { containers: JsonObject[] } } } };
    expect(doc.kind).toBe('Deployment');
    expect(doc.spec.revisionHistoryLimit).toBe(10);
    expect(doc.spec.progressDeadlineSeconds).toBe(600);
    expect(doc.spec.template.spec.restartPolicy).toBe('Always');
    expect(doc.spec.template.spec.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
    // -o yaml and -o json are the same object, and stable from one call to the next.
    const j = await skiff(['get', 'deployments.apps/hello', '-o', 'json']);
    expect(JSON.parse(j.out)).toEqual(doc);
    expect((await skiff(['get', 'deploy', 'hello', '-o', 'yaml'])).out).toBe(y.out);

    const changed = (await readFile('deploy/examples/hello.yaml', 'utf8')).replace('replicas: 3', 'replicas: 4');
    expect(await skiff(['apply', '-f', '-'], { stdin: changed })).toMatchObject({ code: 0, out: 'deployment.apps/hello configured\nservice/hello unchanged\n' });
    expect(await skiff(['apply', '-f', '-', '--dry-run'], { stdin: changed })).toMatchObject({ code: 0, out: 'deployment.apps/hello unchanged (dry run)\nservice/hello unchanged (dry run)\n' });
  });

  it('applies a multi-document file in one call and lists it like kubectl', async () => {
    const r = await skiff(['apply', '-f', 'deploy/examples/app.yaml']);
    expect(r).toEqual({ code: 0, out: 'namespace/shop created\ndeployment.apps/frontend created\ndeployment.apps/backend created\n', err: '' });
    expect(await deploymentNames('shop')).toEqual(['backend', 'frontend']);

    const t = await skiff(['get', 'deploy', '-n', 'shop']);
    expect(t.code).toBe(0);
    const lines = t.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 4))).toEqual([['backend', '0/1', '0', '0'], ['frontend', '0/2', '0', '0']]);

    expect((await skiff(['get', 'deploy', '-A', '-o', 'name'])).out).toBe('deployment.apps/hello\ndeployment.apps/backend\ndeployment.apps/frontend\n');
    const all = await skiff(['get', 'deploy', '-A']);
    expect(all.out.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+READY/);
    expect(all.out).toMatch(/shop\s+frontend\s+0\/2/);

    const sel = await skiff(['get', 'deploy', '-n', 'shop', '-l', 'app=backend', '-o', 'name']);
    expect(sel.out).toBe('deployment.apps/backend\n');
    const list = JSON.parse((await skiff(['get', 'deploy', '-n', 'shop', '-o', 'json'])).out) as { kind: string; items: JsonObject[] };
    expect(list.kind).toBe('List');
    expect(list.items.map((i) => (i.metadata as JsonObject).name)).toEqual(['backend', 'frontend']);

    expect(await skiff(['get', 'pods', '-n', 'shop'])).toEqual({ code: 0, out: '', err: 'No resources found in shop namespace.\n' });
    const ns = await skiff(['get', 'ns']);
    expect(ns.out).toMatch(/^NAME\s+STATUS\s+AGE\n/);
    expect(ns.out).toMatch(/\nshop\s+Active\s+\d+s\n/);
  });

  it('refuses every manifest of the bad corpus, saying where, and changes nothing', async () => {
    const dir = 'test/fixtures/bad-manifests-cli';
    const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
    expect(files.length).toBeGreaterThanOrEqual(7);
    const before = await deploymentNames();
    for (const f of files) {
      const text = await readFile(join(dir, f), 'utf8');
      const expected = /^# expect: (.*)$/m.exec(text)?.[1];
      expect(expected, `${f} has an "# expect:" line`).toBeTruthy();
      const r = await skiff(['apply', '-f', join(dir, f)]);
      expect(r.code, `${f}: ${r.out}${r.err}`).toBe(1);
      expect(r.out, f).toBe('');
      expect(r.err, f).toMatch(/^error \((Invalid|BadRequest)\): /);
      expect(r.err, f).toContain(expected);
    }
    // The whole corpus at once (a directory) is refused as one.
    expect((await skiff(['apply', '-f', dir])).code).toBe(1);
    expect(await deploymentNames()).toEqual(before);
  });

  it('gives the API corpus (test/fixtures/bad-manifests) exactly its expected causes, in order, and writes nothing', async () => {
    const dir = 'test/fixtures/bad-manifests';
    const expected = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as Record<string, { stage: string; causes?: [string, string][] }>;
    const before = await deploymentNames();
    const files = Object.keys(expected).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) {
      const want = expected[f]!;
      const path = join(dir, f);
      const r = await skiff(['apply', '-f', path]);
      expect(r.code, `${f}: ${r.err}`).toBe(1);
      expect(r.out, f).toBe('');
      if (want.stage === 'yaml') {
        expect(r.err, f).toMatch(new RegExp(`^error \\(Invalid\\): cannot parse ${path}: .*\\n  ${path}:\\d+:\\d+: `));
        continue;
      }
      expect(r.err, f).toMatch(/^error \(Invalid\): /);
      // One line per cause: "  <file>#<n>: <field>: <message>".
      const got = r.err.split('\n').slice(1).filter(Boolean).map((l) => {
        const m = /^ {2}(\S+#\d+): (\S+): /.exec(l);
        return m ? [m[1]!.replace(`${dir}/`, ''), m[2]!] : ['?', l];
      });
      expect(got, f).toEqual(want.causes);
    }
    expect(await deploymentNames()).toEqual(before);
  });

  it('reports the server\'s field causes with their manifest source', async () => {
    const r = await skiff(['apply', '-f', 'test/fixtures/bad-manifests-cli/server-invalid.yaml']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/test\/fixtures\/bad-manifests-cli\/server-invalid\.yaml#2: spec\.\S+: /);
    expect(await deploymentNames()).not.toContain('fine');
  });
});

describe('skiff changes', () => {
  it('scales, sets images, pauses, resumes and restarts through patches', async () => {
    expect(await skiff(['scale', 'deploy/hello', '--replicas', '2'])).toEqual({ code: 0, out: 'deployment.apps/hello scaled\n', err: '' });
    expect(await skiff(['set', 'image', 'deploy/hello', 'hello=127.0.0.1:5000/skiff/hello:2'])).toEqual({ code: 0, out: 'deployment.apps/hello image updated\n', err: '' });
    const bad = await skiff(['set', 'image', 'deploy/hello', 'nope=x:1']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('unable to find container named "nope"; containers: hello');
    expect(await skiff(['rollout', 'pause', 'deploy/hello'])).toMatchObject({ code: 0, out: 'deployment.apps/hello paused\n' });
    expect((await skiff(['rollout', 'pause', 'deploy/hello'])).err).toContain('is already paused');
    expect((await skiff(['rollout', 'restart', 'deploy/hello'])).err).toContain("can't restart paused");
    expect(await skiff(['rollout', 'resume', 'deploy/hello'])).toMatchObject({ code: 0, out: 'deployment.apps/hello resumed\n' });
    expect(await skiff(['rollout', 'restart', 'deploy/hello'])).toMatchObject({ code: 0, out: 'deployment.apps/hello restarted\n' });

    const d = unwrapAs('Deployment', await server.api.get({ kind: 'Deployment', namespace: 'default', name: 'hello' }));
    expect(d.spec?.replicas).toBe(2);
    expect(d.spec?.paused).toBe(false);
    expect(d.spec?.template?.spec?.containers[0]?.image).toBe('127.0.0.1:5000/skiff/hello:2');
    expect(d.spec?.template?.metadata?.annotations['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('rollout history lists revisions and undo restores a revision\'s template', async () => {
    const d = unwrapAs('Deployment', await server.api.get({ kind: 'Deployment', namespace: 'default', name: 'hello' }));
    await writeReplicaSet(d, 'hello-aaaa1', 1, '127.0.0.1:5000/skiff/hello:1', 'hello:1');
    await writeReplicaSet(d, 'hello-bbbb2', 2, '127.0.0.1:5000/skiff/hello:2', 'hello:2');
    await server.api.patch({ kind: 'Deployment', namespace: 'default', name: 'hello', patch: JSON.stringify({ metadata: { annotations: { 'deployment.kubernetes.io/revision': '2' } } }) });

    const h = await skiff(['rollout', 'history', 'deploy/hello']);
    expect(h.out).toMatch(/^deployment\.apps\/hello\nREVISION\s+CHANGE-CAUSE\n1\s+hello:1\n2\s+hello:2\n$/);
    const one = await skiff(['rollout', 'history', 'deploy/hello', '--revision', '1']);
    expect(one.out).toContain('deployment.apps/hello with revision #1\nPod Template:\n');
    expect(one.out).toContain('image: 127.0.0.1:5000/skiff/hello:1');
    expect(one.out).not.toContain('pod-template-hash');
    expect((await skiff(['rollout', 'undo', 'deploy/hello', '--to-revision', '7'])).err).toContain('unable to find the specified revision 7');

    expect(await skiff(['rollout', 'undo', 'deploy/hello'])).toMatchObject({ code: 0, out: 'deployment.apps/hello rolled back\n' });
    const after = unwrapAs('Deployment', await server.api.get({ kind: 'Deployment', namespace: 'default', name: 'hello' }));
    expect(after.spec?.template?.spec?.containers[0]?.image).toBe('127.0.0.1:5000/skiff/hello:1');
    expect(after.spec?.template?.metadata?.labels).toEqual({ app: 'hello' });
    // The restartedAt annotation is not in revision 1's template, so undo removed it.
    expect(after.spec?.template?.metadata?.annotations).toEqual({});
    expect((await skiff(['rollout', 'undo', 'deploy/hello', '--to-revision', '1'])).out).toContain('skipped rollback');
  });

  it('describe shows the summary, ReplicaSets and events', async () => {
    const r = await skiff(['describe', 'deploy', 'hello']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Name:\s+hello\nNamespace:\s+default\n/);
    expect(r.out).toMatch(/Replicas:\s+2 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable/);
    expect(r.out).toMatch(/NewReplicaSet:\s+hello-bbbb2/);
    expect(r.out).toMatch(/Image:\s+127\.0\.0\.1:5000\/skiff\/hello:1/);
    expect(r.out).toMatch(/Events:\s+<none>|Events:\n/);
  });
});

describe('skiff rollout status (plain output)', () => {
  it('exits 0 once the rollout is complete', async () => {
    const d = unwrapAs('Deployment', await server.api.get({ kind: 'Deployment', namespace: 'default', name: 'hello' }));
    await setStatus(d, {
      observedGeneration: d.metadata?.generation ?? 0, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2,
      conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }],
    });
    expect(await skiff(['rollout', 'status', 'deploy/hello', '--timeout', '30s'])).toEqual({ code: 0, out: 'deployment "hello" successfully rolled out\n', err: '' });
  });

  it('exits 1 early, naming the pod, when the new ReplicaSet crash-loops', async () => {
    const d = unwrapAs('Deployment', await server.api.get({ kind: 'Deployment', namespace: 'default', name: 'hello' }));
    await setStatus(d, { observedGeneration: d.metadata?.generation ?? 0, replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 });
    const rs = unwrapAs('ReplicaSet', await server.api.get({ kind: 'ReplicaSet', namespace: 'default', name: 'hello-bbbb2' }));
    await writeCrashingPod(rs, 'hello-bbbb2-xyz12');
    const r = await skiff(['rollout', 'status', 'deploy/hello', '--timeout', '60s']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error: deployment "hello" rollout failed: pod hello-bbbb2-xyz12 of ReplicaSet hello-bbbb2: container hello is crash-looping (CrashLoopBackOff, exit 1 Error, 3 restarts)');
    const pods = await skiff(['get', 'pods']);
    expect(pods.out).toMatch(/hello-bbbb2-xyz12\s+0\/1\s+CrashLoopBackOff \(exit 1\)\s+3/);
  });

  it('times out with exit 1', async () => {
    const r = await skiff(['rollout', 'status', 'deploy/backend', '-n', 'shop', '--timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('timed out waiting for deployment "backend"');
  });
});

describe('skiff get -w (plain output)', () => {
  it('prints the current objects, then one line per change, and ends when the stream ends', async () => {
    const second = await startTestServer(ts.store, { tokens: parseTokens(`${TOKEN},tester,tester,"system:masters"`) });
    let out = '';
    let err = '';
    const running = runCli(['get', 'deploy', '-w', '--server', `127.0.0.1:${second.server.port}`], {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (err += t) },
      env, interactive: false,
    });
    await until(() => out.includes('hello'), 20_000, 'the initial row');
    expect(out).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nhello\s+\S+/);
    expect((await skiff(['scale', 'deploy/hello', '--replicas', '7'])).code).toBe(0);
    await until(() => /\nhello\s+\d+\/7\s/.test(out), 20_000, 'the changed row');
    // A server that stops ends its watches cleanly; like kubectl, the watch then exits 0.
    await second.stop();
    expect(await running).toBe(0);
    expect(err).toBe('');
    expect(out.trimEnd().split('\n').filter((l) => l.startsWith('hello')).length).toBeGreaterThanOrEqual(2);
  });
});

describe('skiff delete', () => {
  it('deletes and waits until the object is gone', async () => {
    expect(await skiff(['delete', 'deploy', 'frontend', '-n', 'shop'])).toEqual({ code: 0, out: 'deployment.apps "frontend" deleted\n', err: '' });
    expect(await deploymentNames('shop')).toEqual(['backend']);
    const gone = await skiff(['get', 'deploy/frontend', '-n', 'shop']);
    expect(gone.code).toBe(1);
    expect(gone.err).toMatch(/^error \(NotFound\): .*frontend.* not found/);
    expect((await skiff(['delete', 'deploy', 'frontend', '-n', 'shop', '--ignore-not-found'])).code).toBe(0);
  });

  it('deletes what a file names', async () => {
    const r = await skiff(['delete', '-f', 'deploy/examples/app.yaml', '--wait=false', '--ignore-not-found']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('deployment.apps "backend" deleted');
    expect(r.out).toContain('namespace "shop" deleted');
  });
});

describe('skiff connection, auth and config', () => {
  it('prints the client and server versions', async () => {
    const r = await skiff(['version']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Client Version: \d+\.\d+\.\d+\nServer Version: \d+\.\d+\.\d+/);
  });

  it('refuses a wrong token with Unauthorized', async () => {
    const r = await skiff(['get', 'pods'], { env: { ...env, SKIFF_TOKEN: 'wrong' } });
    expect(r).toMatchObject({ code: 1, out: '' });
    expect(r.err).toMatch(/^error \(Unauthorized\): the bearer token is not valid/);
  });

  it('names the address it tried when nothing listens there', async () => {
    const port = await freePort();
    const r = await skiff(['get', 'pods', '--server', `127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error (Unavailable): cannot reach the Skiff control plane at 127.0.0.1:${port}`);
  });

  it('stores settings in the config file with mode 0600, below flags and env', async () => {
    const noEnv = { HOME: home, SKIFF_CERTIFICATE_AUTHORITY: env.SKIFF_CERTIFICATE_AUTHORITY ?? '' };
    expect((await skiff(['config', 'set-server', `127.0.0.1:${server.server.port}`], { env: noEnv })).code).toBe(0);
    expect((await skiff(['config', 'set-token', TOKEN], { env: noEnv })).code).toBe(0);
    expect((await skiff(['config', 'set-namespace', 'kube-x'], { env: noEnv })).code).toBe(0);
    const path = join(home, '.skiff', 'config.yaml');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await skiff(['get', 'pods'], { env: noEnv })).err).toBe('No resources found in kube-x namespace.\n');
    expect((await skiff(['get', 'deploy', '-o', 'name', '-n', 'default'], { env: noEnv })).out).toContain('deployment.apps/hello');
    const view = await skiff(['config', 'view'], { env: { ...noEnv, SKIFF_SERVER: 'elsewhere:1' } });
    expect(view.out).toContain('server: elsewhere:1\ntoken: REDACTED\nnamespace: kube-x\nfrom:\n  server: env\n  token: config\n  namespace: config\n');
  });
});

async function writeReplicaSet(d: Deployment, name: string, revision: number, image: string, cause: string): Promise<void> {
  const hash = name.slice(name.indexOf('-') + 1);
  const rs = fromManifest({
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name, namespace: 'default', labels: { app: 'hello', 'pod-template-hash': hash },
      annotations: { 'deployment.kubernetes.io/revision': String(revision), 'kubernetes.io/change-cause': cause },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'hello', uid: d.metadata?.uid ?? '', controller: true }],
    },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'hello', 'pod-template-hash': hash } },
      template: {
        metadata: { labels: { app: 'hello', 'pod-template-hash': hash } },
        spec: { containers: [{ name: 'hello', image }] },
      },
    },
  }).object as ReplicaSet;
  await server.api.create({ object: wrap('ReplicaSet', rs) });
}

async function setStatus(d: Deployment, status: JsonObject): Promise<void> {
  const withStatus = fromManifest({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, status }).object as Deployment;
  await server.api.update({ object: wrap('Deployment', { ...d, status: withStatus.status }), subresource: 'status' });
}

async function writeCrashingPod(rs: ReplicaSet, name: string): Promise<void> {
  const pod = fromManifest({
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: 'default', labels: { app: 'hello', 'pod-template-hash': 'bbbb2' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata?.name ?? '', uid: rs.metadata?.uid ?? '', controller: true }],
    },
    spec: { containers: [{ name: 'hello', image: '127.0.0.1:5000/skiff/hello:2' }] },
  }).object as Pod;
  const created = unwrapAs('Pod', await server.api.create({ object: wrap('Pod', pod) }));
  const status = (fromManifest({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False' }],
      containerStatuses: [{
        name: 'hello', ready: false, restartCount: 3, image: '127.0.0.1:5000/skiff/hello:2',
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
        lastState: { terminated: { exitCode: 1, reason: 'Error' } },
      }],
    },
  }).object as Pod).status;
  await server.api.update({ object: wrap('Pod', { ...created, status }), subresource: 'status' });
}
