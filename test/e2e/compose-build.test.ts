// skiff compose with `build:` on one real node: the image is missing from the cluster's
// registry, so `up` builds it with buildah (FROM resolved against that registry, as there is no
// internet), pushes it under the project's name and runs it. Needs buildah (scripts/lib/deps.sh
// installs it for this test); without it `up` must say how to get it.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrapAs } from '../../proto/api/kinds.js';
import { sampleImage } from '../helpers/images.js';
import { until } from '../helpers/wait.js';
import { Cluster, execInPod, ok } from './cluster.js';

const c = new Cluster();
const project = `bld-${randomBytes(3).toString('hex')}`;
const greeting = `built ${randomBytes(6).toString('hex')}`;
let file = '';
const hasBuildah = await promisify(execFile)('buildah', ['--version']).then(() => true, () => false);

beforeAll(async () => {
  await c.start();
  await c.registry!.push(await sampleImage('skiff/counter:1'));
  const dir = join(await c.manifest('.keep', ''), '..', project);
  await mkdir(join(dir, 'app'), { recursive: true });
  // No registry in FROM: `up` points it at the cluster's.
  await writeFile(join(dir, 'app', 'Dockerfile'), 'FROM skiff/counter:1\nARG WHO\nCOPY greeting.txt /greeting.txt\n');
  await writeFile(join(dir, 'app', 'greeting.txt'), greeting);
  file = join(dir, 'compose.yaml');
  await writeFile(file, `services:
  app:
    build:
      context: ./app
    deploy:
      replicas: 1
`);
}, 400_000);

afterAll(async () => {
  // buildah keeps what it built in the host's container storage: leave nothing behind.
  if (hasBuildah && c.registry) {
    await promisify(execFile)('buildah', ['rmi', '-f', `${c.registryHost}/${project}/app:latest`, `${c.registryHost}/skiff/counter:1`])
      .catch((e: Error) => console.warn(`buildah rmi: ${e.message}`));
  }
  await c.stop();
}, 180_000);

describe('skiff compose build:', () => {
  it.runIf(hasBuildah)('up builds the missing image with buildah, pushes it to the cluster registry and runs it', async () => {
    const env = { SKIFF_REGISTRY: c.registryHost };
    const started = Date.now();
    const up = ok(await c.skiff(['compose', '-f', file, 'up', '-d', '--wait', '--wait-timeout', '180s'], env), 'compose up (build)');
    console.log(`compose up -d --wait with a buildah build: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const image = `${c.registryHost}/${project}/app:latest`;
    expect(up.err).toContain(`built and pushed ${image}`);
    const pods = (await c.api!.list({ kind: 'Pod', namespace: project })).items.map((r) => unwrapAs('Pod', r));
    expect(pods).toHaveLength(1);
    expect(pods[0]!.spec!.containers[0]!.image).toBe(image);
    const r = await execInPod(c.cri!, pods[0]!.metadata!.name, ['cat', '/greeting.txt']);
    expect(r.out).toBe(greeting);
    // A second up finds the image in the registry and builds nothing.
    const again = ok(await c.skiff(['compose', '-f', file, 'up', '-d'], env), 'second up');
    expect(again.err).not.toContain('building app');
    ok(await c.skiff(['compose', '-f', file, 'down'], env), 'compose down');
    await until(() => c.api!.get({ kind: 'Namespace', name: project }).then(() => false, () => true), 60_000, 'namespace gone');
  }, 300_000);

  it.runIf(!hasBuildah)('without buildah, up says how to install it and applies nothing', async () => {
    const r = await c.skiff(['compose', '-f', file, 'up', '-d'], { SKIFF_REGISTRY: c.registryHost });
    expect(r.code).toBe(1);
    expect(r.err).toContain('services.app.build: building needs buildah, which is not installed: apt-get install buildah');
  }, 60_000);
});
