// skiff compose end to end on one real node: the web+redis counter (Docker's getting-started
// example with Skiff's sample images) comes up in dependency order (web waits for redis to be
// healthy), its published port answers on 127.0.0.1 through the LoadBalancer Service and
// counts up across requests served by several web replicas; ps, a second up (nothing
// changes), an unsupported key and down. Traffic goes only to 127.0.0.1.
import { request } from 'node:http';
import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrapAs } from '../../proto/api/kinds.js';
import { sampleImage } from '../helpers/images.js';
import { until } from '../helpers/wait.js';
import { Cluster, ok } from './cluster.js';

const c = new Cluster();
const project = `counter-${randomBytes(3).toString('hex')}`;
// A random high port outside the NodePort range, so parallel runs do not collide.
const port = randomInt(20000, 29000);

function composeYaml(registry: string): string {
  return `name: ${project}
services:
  web:
    image: "${registry}/skiff/counter:1"
    ports:
      - "${port}:5000"
    deploy:
      replicas: 3
    stop_grace_period: 2s
    depends_on:
      redis:
        condition: service_healthy
  redis:
    image: "${registry}/skiff/redis:7"
    stop_grace_period: 5s
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 1s
      timeout: 2s
      retries: 3
`;
}

/** GET / on a fresh connection each time, so the proxy picks a replica per request. */
function get(): Promise<{ status: number; body: string; servedBy: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, servedBy: String(res.headers['x-served-by'] ?? '') }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

let file = '';
const compose = (...args: string[]) => c.skiff(['compose', '-f', file, ...args]);

beforeAll(async () => {
  await c.start();
  for (const ref of ['skiff/redis:7', 'skiff/counter:1']) await c.registry!.push(await sampleImage(ref));
  file = await c.manifest('compose.yaml', composeYaml(c.registryHost));
}, 240_000);

afterAll(async () => {
  await c.stop();
}, 120_000);

describe('skiff compose', () => {
  it('up -d --wait: redis first and healthy, then web; the published port counts up across replicas', async () => {
    const started = Date.now();
    const up = ok(await compose('up', '-d', '--wait', '--wait-timeout', '150s'), 'compose up');
    // A figure for the README, not an assertion.
    console.log(`compose up -d --wait (redis healthy, then 3 web replicas Ready): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(up.out).toContain(`namespace/${project} created`);
    expect(up.err).toContain('web: waiting for redis to be healthy');
    expect(up.out.indexOf('deployment.apps/redis created')).toBeLessThan(up.out.indexOf('deployment.apps/web created'));

    // Order: the web Deployment was created only after a redis pod was Ready.
    const api = c.api!;
    const web = unwrapAs('Deployment', await api.get({ kind: 'Deployment', namespace: project, name: 'web' }));
    const redisPods = (await api.list({ kind: 'Pod', namespace: project, labelSelector: 'com.docker.compose.service=redis' })).items.map((r) => unwrapAs('Pod', r));
    const readyAt = redisPods.map((p) => p.status?.conditions.find((x) => x.type === 'Ready' && x.status === 'True')?.lastTransitionTime ?? '').filter(Boolean).sort()[0];
    expect(readyAt).toBeTruthy();
    expect(Date.parse(web.metadata!.creationTimestamp)).toBeGreaterThanOrEqual(Date.parse(readyAt!) - 1000);

    // The LoadBalancer lists the node's address as its ingress.
    await until(async () => {
      const lb = unwrapAs('Service', await api.get({ kind: 'Service', namespace: project, name: 'web-published' }));
      return (lb.status?.loadBalancer?.ingress.length ?? 0) > 0;
    }, 30_000, 'web-published has a load balancer ingress');

    await until(() => get().then((r) => r.status === 200, () => false), 30_000, `127.0.0.1:${port} answers`);
    const counts: number[] = [];
    const servers = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const r = await get();
      expect(r.status, r.body).toBe(200);
      const m = /I have been seen (\d+) times\./.exec(r.body);
      expect(m, r.body).toBeTruthy();
      counts.push(Number(m![1]));
      servers.add(r.servedBy);
    }
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBe(counts[i - 1]! + 1);
    expect(servers.size).toBeGreaterThanOrEqual(2);
  }, 240_000);

  it('ps lists each service with its replicas and published port', async () => {
    const ps = ok(await compose('ps'), 'compose ps');
    const lines = ps.out.trim().split('\n');
    expect(lines[0]).toMatch(/^SERVICE\s+KIND\s+IMAGE\s+REPLICAS\s+STATUS\s+PORTS$/);
    expect(lines.find((l) => l.startsWith('redis '))).toMatch(/Deployment .*skiff\/redis:7\s+1\/1\s+running/);
    expect(lines.find((l) => l.startsWith('web '))).toMatch(new RegExp(`Deployment .*skiff/counter:1\\s+3/3\\s+running\\s+\\S+:${port}->5000/tcp`));
  }, 60_000);

  it('up again changes nothing', async () => {
    const again = ok(await compose('up', '-d'), 'second compose up');
    const actions = again.out.trim().split('\n');
    expect(actions.length).toBeGreaterThan(0);
    for (const a of actions) expect(a).toMatch(/ unchanged$/);
  }, 120_000);

  it('logs shows each service\'s lines with its prefix', async () => {
    const logs = ok(await compose('logs', '--tail', '5', 'web'), 'compose logs');
    expect(logs.out).toMatch(/^web-1 +\| counter listening on :5000/m);
  }, 60_000);

  it('an unsupported key is refused with the file, the key path and what to use instead; nothing applied', async () => {
    const bad = await c.manifest('bad.yaml', `name: bad-${project}\nservices:\n  web:\n    image: x\n    cap_add: [NET_ADMIN]\n`);
    const r = await c.skiff(['compose', '-f', bad, 'up', '-d']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(bad);
    expect(r.err).toContain('services.web.cap_add: is not supported by Skiff: Skiff runs containers with the runtime default capabilities');
    await expect(c.api!.get({ kind: 'Namespace', name: `bad-${project}` })).rejects.toThrow(/not found/i);
  }, 60_000);

  it('down removes the project and its namespace', async () => {
    ok(await compose('down'), 'compose down');
    const pods = await c.api!.list({ kind: 'Pod', namespace: project });
    expect(pods.items).toEqual([]);
    await until(() => c.api!.get({ kind: 'Namespace', name: project }).then(() => false, () => true), 30_000, 'namespace gone');
    await expect(get()).rejects.toThrow();
  }, 180_000);
});
