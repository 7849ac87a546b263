// skiff compose's storage end to end on one real node. The counter-volume example, as shipped
// (a copy in a folder named for the project, registry and port from its .env): the count lives in
// redis' named volume, so it survives `down` and `up` (redis saves on SIGTERM into the claim)
// and `down -v` resets it (the claim goes). Top-level secrets and configs from files are mounted
// at /run/secrets/NAME and /NAME with the files' content. Traffic goes only to 127.0.0.1.
import { request } from 'node:http';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrapAs } from '../../proto/api/kinds.js';
import { REPO_ROOT, sampleImage } from '../helpers/images.js';
import { until } from '../helpers/wait.js';
import { Cluster, execInPod, ok } from './cluster.js';

const c = new Cluster();
const project = `cv-${randomBytes(3).toString('hex')}`;
// A random high port outside the NodePort range, so parallel runs do not collide.
const port = randomInt(20000, 29000);
let dir = '';

function get(): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** One visit (every answered GET counts one), waiting for the port to answer. */
async function count(): Promise<number> {
  let r: { status: number; body: string } | undefined;
  await until(async () => {
    r = await get().catch(() => undefined);
    return r?.status === 200;
  }, 60_000, `127.0.0.1:${port} answers`);
  const m = /I have been seen (\d+) times\./.exec(r?.body ?? '');
  if (!m) throw new Error(`unexpected answer: ${r?.body ?? ''}`);
  return Number(m[1]);
}

const file = (): string => join(dir, 'compose.yaml');
const compose = (...args: string[]) => c.skiff(['compose', '-f', file(), ...args]);

async function claims(namespace: string): Promise<string[]> {
  return (await c.api!.list({ kind: 'PersistentVolumeClaim', namespace })).items.map((r) => unwrapAs('PersistentVolumeClaim', r).metadata!.name);
}

beforeAll(async () => {
  await c.start();
  for (const ref of ['skiff/redis:7', 'skiff/counter:1']) await c.registry!.push(await sampleImage(ref));
  // The project name comes from the folder, as with Docker Compose.
  dir = join(await c.manifest('.keep', ''), '..', project);
  await mkdir(dir);
  await copyFile(join(REPO_ROOT, 'deploy/compose/counter-volume/compose.yaml'), file());
  await writeFile(join(dir, '.env'), `SKIFF_REGISTRY=${c.registryHost}\nWEB_PORT=${port}\n`);
}, 400_000);

afterAll(async () => {
  await c.stop();
}, 180_000);

describe('skiff compose: named volumes', () => {
  let before = 0;

  it('up -d --wait on the shipped counter-volume example; the count goes up', async () => {
    const started = Date.now();
    const up = ok(await compose('up', '-d', '--wait', '--wait-timeout', '180s'), 'compose up');
    // A figure for the README, not an assertion.
    console.log(`counter-volume: compose up -d --wait (claim bound, redis healthy, 3 web Ready): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(up.out).toContain(`namespace/${project} created`);
    expect(up.out).toContain('persistentvolumeclaim/redis-data created');
    const first = await count();
    for (let i = 1; i <= 4; i++) expect(await count()).toBe(first + i);
    before = first + 4;
  }, 300_000);

  it('down keeps the claim and its namespace; up again finds the count', async () => {
    const down = ok(await compose('down'), 'compose down');
    expect(down.out).toContain(`namespace/${project} kept`);
    expect(await claims(project)).toEqual(['redis-data']);
    await expect(get()).rejects.toThrow();
    ok(await compose('up', '-d', '--wait', '--wait-timeout', '180s'), 'compose up after down');
    expect(await count()).toBe(before + 1);
  }, 300_000);

  it('down -v deletes the claim and the namespace; up starts from zero', async () => {
    const down = ok(await compose('down', '-v'), 'compose down -v');
    expect(down.out).toContain('persistentvolumeclaim/redis-data deleted');
    await until(() => c.api!.get({ kind: 'Namespace', name: project }).then(() => false, () => true), 60_000, 'namespace gone');
    await until(async () => (await c.api!.list({ kind: 'PersistentVolume', namespace: '' })).items.length === 0, 60_000, 'volume released and deleted');
    ok(await compose('up', '-d', '--wait', '--wait-timeout', '180s'), 'compose up after down -v');
    expect(await count()).toBe(1);
    ok(await compose('down', '-v'), 'final compose down -v');
  }, 300_000);
});

describe('skiff compose: secrets and configs', () => {
  it('file secrets and configs are mounted at /run/secrets/NAME and /NAME with their content', async () => {
    const sdir = join(dir, '..', `${project}-files`);
    await mkdir(sdir);
    const token = `token-${randomBytes(8).toString('hex')}`;
    const conf = `listen ${randomInt(1000, 9000)}\nname "${project}"\n`;
    await writeFile(join(sdir, 'token.txt'), token);
    await writeFile(join(sdir, 'app.conf'), conf);
    await writeFile(join(sdir, 'compose.yaml'), `name: ${project}-files
services:
  app:
    image: "${c.registryHost}/skiff/counter:1"
    secrets: [api_token]
    configs:
      - app_conf
      - source: app_conf
        target: /etc/app/app.conf
secrets:
  api_token:
    file: ./token.txt
configs:
  app_conf:
    file: ./app.conf
`);
    const f = join(sdir, 'compose.yaml');
    ok(await c.skiff(['compose', '-f', f, 'up', '-d', '--wait', '--wait-timeout', '120s']), 'compose up (files)');
    const ns = `${project}-files`;
    const pod = (await c.api!.list({ kind: 'Pod', namespace: ns })).items.map((r) => unwrapAs('Pod', r))[0]!;
    const cat = async (p: string): Promise<string> => {
      const r = await execInPod(c.cri!, pod.metadata!.name, ['cat', p]);
      expect(r.code, r.err).toBe(0);
      return r.out;
    };
    expect(await cat('/run/secrets/api_token')).toBe(token);
    expect(await cat('/app_conf')).toBe(conf);
    expect(await cat('/etc/app/app.conf')).toBe(conf);
    ok(await c.skiff(['compose', '-f', f, 'down']), 'compose down (files)');
    await until(() => c.api!.get({ kind: 'Namespace', name: ns }).then(() => false, () => true), 60_000, 'namespace gone');
  }, 200_000);
});
