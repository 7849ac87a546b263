// One case per compose key: the file fragment in, the manifests (or the diagnostic) out.
import { describe, expect, it } from 'vitest';
import type { JsonMap } from '../model.js';
import { compose, TEST_DIR } from '../testing.js';
import { allManifests } from './index.js';

const svc = (body: string, top = ''): string => `services:\n  web:\n    image: r/web:1\n${body.split('\n').map((l) => (l ? `    ${l}` : l)).join('\n')}\n${top}`;

function deployment(text: string, opts: Parameters<typeof compose>[1] = {}): JsonMap {
  const t = compose(text, opts);
  const errs = t.diagnostics.filter((d) => d.level === 'error');
  expect(errs).toEqual([]);
  const d = t.services[0]!.manifests.find((m) => m.json.kind === 'Deployment' || m.json.kind === 'Pod');
  return d!.json;
}
const podSpec = (d: JsonMap): JsonMap => (d.kind === 'Pod' ? d.spec : ((d.spec as JsonMap).template as JsonMap).spec) as JsonMap;
const main = (d: JsonMap): JsonMap => (podSpec(d).containers as JsonMap[])[0]!;
const errors = (text: string, opts: Parameters<typeof compose>[1] = {}) =>
  compose(text, opts).diagnostics.filter((d) => d.level === 'error').map((d) => `${d.path}: ${d.message}`);
const warnings = (text: string) => compose(text).diagnostics.filter((d) => d.level === 'warning').map((d) => `${d.path}: ${d.message}`);

describe('translation: the container', () => {
  it.each<[string, string, JsonMap]>([
    ['image', '', { name: 'main', image: 'r/web:1' }],
    ['entrypoint -> command, command -> args (list)', 'entrypoint: ["/bin/app", "-v"]\ncommand: ["serve", "--port", "80"]', { command: ['/bin/app', '-v'], args: ['serve', '--port', '80'] }],
    ['command as a string is split like a shell', `command: sh -c 'echo "hi there" && sleep 1'`, { args: ['sh', '-c', 'echo "hi there" && sleep 1'] }],
    ['environment as a map', 'environment:\n  A: "1"\n  B: two', { env: [{ name: 'A', value: '1' }, { name: 'B', value: 'two' }] }],
    ['environment as a list, NAME alone from the shell', 'environment: ["A=1", "FROM_SHELL", "NOT_SET"]', { env: [{ name: 'A', value: '1' }, { name: 'FROM_SHELL', value: 'shell' }] }],
    ['env_file then environment (which wins)', 'env_file: ./web.env\nenvironment: {B: over}', { env: [{ name: 'A', value: 'a' }, { name: 'B', value: 'over' }] }],
    ['working_dir', 'working_dir: /app', { workingDir: '/app' }],
    ['user UID:GID', 'user: "1000:2000"', { securityContext: { runAsUser: 1000, runAsGroup: 2000 } }],
    ['user UID', 'user: "1000"', { securityContext: { runAsUser: 1000 } }],
    ['tty and stdin_open', 'tty: true\nstdin_open: true', { tty: true, stdin: true }],
    ['pull_policy', 'pull_policy: always', { imagePullPolicy: 'Always' }],
    ['cpus, mem_limit, mem_reservation', 'cpus: 0.5\nmem_limit: 512m\nmem_reservation: 1g', { resources: { limits: { cpu: '500m', memory: '512Mi' }, requests: { memory: '1Gi' } } }],
    ['deploy.resources', 'deploy:\n  resources:\n    limits: {cpus: "2", memory: 256M}\n    reservations: {cpus: "0.25", memory: 64M}', { resources: { limits: { cpu: '2', memory: '256Mi' }, requests: { cpu: '250m', memory: '64Mi' } } }],
    ['ports give container ports', 'ports: ["8080:5000", "9090:9090/udp"]', { ports: [{ containerPort: 5000, protocol: 'TCP' }, { containerPort: 9090, protocol: 'UDP' }] }],
  ])('%s', (_n, body, want) => {
    const c = main(deployment(svc(body), { env: { FROM_SHELL: 'shell' }, files: { [`${TEST_DIR}/web.env`]: 'A=a\nB=b\n' } }));
    expect(c).toMatchObject(want);
    if (!body.includes('environment') && !body.includes('env_file')) expect(c.env).toBeUndefined();
  });

  it.each([
    ['user by name', 'user: www-data', 'services.web.user: "www-data": only a numeric UID[:GID] is supported'],
    ['a missing env_file', 'env_file: ./nope.env', `services.web.env_file[0]: cannot read ${TEST_DIR}/nope.env`],
    ['a bad memory size', 'mem_limit: lots', 'services.web.mem_limit: "lots" is not a size'],
  ])('%s is refused', (_n, body, msg) => {
    expect(errors(svc(body)).join('\n')).toContain(msg);
  });

  it('a missing env_file with required: false is fine', () => {
    expect(errors(svc('env_file: [{path: ./nope.env, required: false}]'))).toEqual([]);
  });
});

describe('translation: healthcheck', () => {
  it.each<[string, string, JsonMap]>([
    ['CMD with every timing', 'healthcheck:\n  test: ["CMD", "redis-cli", "ping"]\n  interval: 5s\n  timeout: 2s\n  retries: 4\n  start_period: 10s',
      {
        readinessProbe: { exec: { command: ['redis-cli', 'ping'] }, periodSeconds: 5, timeoutSeconds: 2, successThreshold: 1, failureThreshold: 4 },
        livenessProbe: { exec: { command: ['redis-cli', 'ping'] }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 4 },
        startupProbe: { exec: { command: ['redis-cli', 'ping'] }, periodSeconds: 5, failureThreshold: 6 },
      }],
    ['CMD-SHELL', 'healthcheck:\n  test: ["CMD-SHELL", "curl -f localhost || exit 1"]',
      { readinessProbe: { exec: { command: ['/bin/sh', '-c', 'curl -f localhost || exit 1'] }, periodSeconds: 30, timeoutSeconds: 30, failureThreshold: 3 } }],
    ['a string runs in the shell', 'healthcheck:\n  test: test -f /ready\n  interval: 1m30s',
      { readinessProbe: { exec: { command: ['/bin/sh', '-c', 'test -f /ready'] }, periodSeconds: 90 } }],
  ])('%s', (_n, body, want) => {
    const c = main(deployment(svc(body)));
    expect(c).toMatchObject(want);
    if (!body.includes('start_period')) expect(c.startupProbe).toBeUndefined();
  });

  it.each([['NONE', 'healthcheck:\n  test: ["NONE"]'], ['disable', 'healthcheck:\n  disable: true']])('%s: no probes', (_n, body) => {
    const c = main(deployment(svc(body)));
    expect(c.readinessProbe).toBeUndefined();
    expect(c.livenessProbe).toBeUndefined();
  });

  it('an unknown test form is refused', () => {
    expect(errors(svc('healthcheck:\n  test: ["RUN", "x"]'))).toEqual(['services.web.healthcheck.test: must start with "CMD", "CMD-SHELL" or "NONE" (or be a string for the shell), not "RUN"']);
  });
});

describe('translation: Services', () => {
  const services = (text: string): JsonMap[] => compose(text).services[0]!.manifests.filter((m) => m.json.kind === 'Service').map((m) => m.json);

  it('ports "8080:5000": a ClusterIP Service named after the service and a LoadBalancer on the published port', () => {
    const [cluster, lb] = services(svc('ports: ["8080:5000"]'));
    expect(cluster).toMatchObject({
      metadata: { name: 'web', namespace: 'app', labels: { 'app.kubernetes.io/part-of': 'app', 'com.docker.compose.project': 'app', 'com.docker.compose.service': 'web' } },
      spec: { type: 'ClusterIP', selector: { 'com.docker.compose.project': 'app', 'com.docker.compose.service': 'web' }, ports: [{ port: 5000, targetPort: 5000, protocol: 'TCP' }] },
    });
    expect(lb).toMatchObject({ metadata: { name: 'web-published' }, spec: { type: 'LoadBalancer', ports: [{ port: 8080, targetPort: 5000, protocol: 'TCP' }] } });
  });

  it.each<[string, string, JsonMap[]]>([
    ['long syntax', 'ports: [{target: 80, published: "8081", protocol: udp}]', [{ port: 8081, targetPort: 80, protocol: 'UDP' }]],
    ['a host address is dropped', 'ports: ["127.0.0.1:8082:80"]', [{ port: 8082, targetPort: 80 }]],
    ['ranges map one to one', 'ports: ["9000-9001:7000-7001"]', [{ name: 'tcp-9000', port: 9000, targetPort: 7000 }, { name: 'tcp-9001', port: 9001, targetPort: 7001 }]],
  ])('published %s', (_n, body, ports) => {
    const lb = services(svc(body)).find((s) => (s.spec as JsonMap).type === 'LoadBalancer')!;
    expect((lb.spec as JsonMap).ports).toMatchObject(ports);
  });

  it('expose: ClusterIP ports only, no LoadBalancer', () => {
    const s = services(svc('expose: ["6379", "53/udp"]'));
    expect(s).toHaveLength(1);
    expect((s[0]!.spec as JsonMap).ports).toEqual([
      { name: 'tcp-6379', port: 6379, targetPort: 6379, protocol: 'TCP' },
      { name: 'udp-53', port: 53, targetPort: 53, protocol: 'UDP' },
    ]);
  });

  it('no port at all: a headless Service, so the name still resolves to the pods', () => {
    expect(services(svc(''))).toEqual([expect.objectContaining({ spec: expect.objectContaining({ clusterIP: 'None', ports: [] }) as unknown })]);
  });

  it('deploy.endpoint_mode dnsrr: headless', () => {
    expect((services(svc('expose: [80]\ndeploy: {endpoint_mode: dnsrr}'))[0]!.spec as JsonMap).clusterIP).toBe('None');
  });

  it('a container port without a published one is a warning', () => {
    expect(warnings(svc('ports: ["5000"]')).join('\n')).toContain('services.web.ports: 5000 without a published port');
  });

  it('bad ports are refused', () => {
    expect(errors(svc('ports: ["a:b"]'))).toEqual(['services.web.ports[0]: "a:b" is not a port mapping: use PUBLISHED:TARGET, e.g. "8080:5000"']);
    expect(errors(svc('ports: ["8080:80", "8080:81"]'))).toEqual(['services.web.ports: port 8080/tcp is published twice']);
  });
});

describe('translation: deploy, restart, scale', () => {
  it.each<[string, string, JsonMap]>([
    ['replicas', 'deploy: {replicas: 3}', { replicas: 3 }],
    ['scale', 'scale: 2', { replicas: 2 }],
    ['update_config start-first', 'deploy:\n  replicas: 4\n  update_config: {parallelism: 2, order: start-first, delay: 10s, failure_action: rollback}',
      { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } }, minReadySeconds: 10, autoRollback: true }],
    ['update_config stop-first (the default order)', 'deploy:\n  update_config: {parallelism: 1}', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } }],
    ['update_config parallelism 0: all at once', 'deploy:\n  replicas: 5\n  update_config: {parallelism: 0}', { strategy: { rollingUpdate: { maxUnavailable: 5 } } }],
  ])('%s', (_n, body, want) => {
    expect(deployment(svc(body)).spec).toMatchObject(want);
  });

  it.each<[string, string, string, string | undefined]>([
    ['unset: a Deployment (services keep running, as in Swarm)', '', 'Deployment', undefined],
    ['always', 'restart: always', 'Deployment', undefined],
    ['unless-stopped', 'restart: unless-stopped', 'Deployment', undefined],
    ['"no": a one-shot Pod', 'restart: "no"', 'Pod', 'Never'],
    ['on-failure: a Pod restarted on failure', 'restart: on-failure', 'Pod', 'OnFailure'],
    ['deploy.restart_policy none', 'deploy: {restart_policy: {condition: none}}', 'Pod', 'Never'],
    ['deploy.restart_policy any', 'restart: "no"\ndeploy: {restart_policy: {condition: any}}', 'Deployment', undefined],
  ])('restart %s', (_n, body, kind, policy) => {
    const d = deployment(svc(body));
    expect(d.kind).toBe(kind);
    expect(podSpec(d).restartPolicy).toBe(policy);
  });

  it('placement constraints become a nodeSelector', () => {
    expect(podSpec(deployment(svc('deploy:\n  placement:\n    constraints: ["node.hostname == n2", "node.labels.disk==ssd"]'))).nodeSelector)
      .toEqual({ 'kubernetes.io/hostname': 'n2', disk: 'ssd' });
  });

  it.each([
    ['global mode', 'deploy: {mode: global}', 'services.web.deploy.mode: "global" is not supported'],
    ['scale and replicas disagree', 'scale: 2\ndeploy: {replicas: 3}', 'services.web.scale: scale (2) and deploy.replicas (3) differ'],
    ['a one-shot with replicas', 'restart: "no"\ndeploy: {replicas: 2}', 'services.web.deploy.replicas: a service that does not restart'],
    ['a != constraint', 'deploy: {placement: {constraints: ["node.role != manager"]}}', 'only node.hostname==NAME and node.labels.KEY==VALUE'],
    ['pids limit', 'deploy: {resources: {limits: {pids: 10}}}', 'services.web.deploy.resources.limits.pids'],
  ])('%s is refused', (_n, body, msg) => {
    expect(errors(svc(body)).join('\n')).toContain(msg);
  });

  it('stop_grace_period, hostname, labels, dns, network_mode host, tmpfs', () => {
    const d = deployment(svc('stop_grace_period: 1m\nhostname: box\nlabels: {com.example.team: web}\ndns: [10.0.0.2]\ndns_search: corp\ndns_opt: ["ndots:2"]\nnetwork_mode: host\ntmpfs: /run'));
    expect(podSpec(d)).toMatchObject({
      terminationGracePeriodSeconds: 60, hostname: 'box', hostNetwork: true,
      dnsConfig: { nameservers: ['10.0.0.2'], searches: ['corp'], options: [{ name: 'ndots', value: '2' }] },
      volumes: [{ name: 'tmpfs-x0', emptyDir: { medium: 'Memory' } }],
    });
    expect(main(d).volumeMounts).toEqual([{ name: 'tmpfs-x0', mountPath: '/run' }]);
    expect(((d.spec as JsonMap).template as JsonMap).metadata).toMatchObject({ annotations: { 'com.example.team': 'web' } });
  });
});

describe('translation: volumes, secrets, configs', () => {
  it('a named volume: a PersistentVolumeClaim and a mount', () => {
    const t = compose(svc('volumes: ["data:/data", "logs:/var/log:ro"]', 'volumes:\n  data: {}\n  logs: {driver_opts: {size: 5Gi}}\n'));
    expect(t.shared.map((m) => m.json)).toEqual([
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: expect.objectContaining({ name: 'data', namespace: 'app', annotations: { 'skiff.dev/compose-key': 'volumes.data' } }) as unknown, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
      expect.objectContaining({ kind: 'PersistentVolumeClaim', spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } } }),
    ]);
    const d = t.services[0]!.manifests.find((m) => m.json.kind === 'Deployment')!.json;
    expect(podSpec(d).volumes).toEqual([{ name: 'vol-data', persistentVolumeClaim: { claimName: 'data' } }, { name: 'vol-logs', persistentVolumeClaim: { claimName: 'logs' } }]);
    expect(main(d).volumeMounts).toEqual([{ name: 'vol-data', mountPath: '/data' }, { name: 'vol-logs', mountPath: '/var/log', readOnly: true }]);
    expect(t.shared[0]!.key).toBe('volumes.data');
  });

  it('a bind mount: a hostPath against the file\'s directory, with a node-local warning', () => {
    const t = compose(svc('volumes: ["./html:/srv/html:ro", {type: bind, source: /etc/app, target: /etc/app}]'));
    const d = t.services[0]!.manifests.find((m) => m.json.kind === 'Deployment')!.json;
    expect(podSpec(d).volumes).toEqual([{ name: 'bind-0', hostPath: { path: `${TEST_DIR}/html` } }, { name: 'bind-1', hostPath: { path: '/etc/app' } }]);
    expect(main(d).volumeMounts).toEqual([{ name: 'bind-0', mountPath: '/srv/html', readOnly: true }, { name: 'bind-1', mountPath: '/etc/app' }]);
    expect(t.diagnostics.filter((x) => x.level === 'warning').map((x) => x.path)).toEqual(['services.web.volumes[0]', 'services.web.volumes[1]', 'services']);
    // The host access is granted on the project's namespace, as Docker grants it any container.
    expect((t.namespace.json.metadata as { labels: Record<string, string> }).labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
  });

  it('a project without host access keeps its namespace at the default pod security level; bind sources are cleaned', () => {
    expect((compose(svc('restart: always')).namespace.json.metadata as { labels: Record<string, string> }).labels['pod-security.kubernetes.io/enforce']).toBeUndefined();
    const d = compose(svc('volumes: [{type: bind, source: "/srv//data/", target: /d}]')).services[0]!.manifests.find((m) => m.json.kind === 'Deployment')!.json;
    expect(podSpec(d).volumes).toEqual([{ name: 'bind-0', hostPath: { path: '/srv/data' } }]);
  });

  it('an anonymous volume is an emptyDir', () => {
    expect(podSpec(deployment(svc('volumes: ["/cache"]'))).volumes).toEqual([{ name: 'anon-0', emptyDir: {} }]);
  });

  it('an undefined volume is refused', () => {
    expect(errors(svc('volumes: ["nope:/data"]'))).toEqual(['services.web.volumes[0]: refers to undefined volume "nope": declare it under the top-level volumes:']);
  });

  it('secrets (file, environment) and configs (content) become Secrets and ConfigMaps mounted like Docker', () => {
    const t = compose(svc('secrets: [db_pw, {source: api_key, target: key.txt}]\nconfigs: [app_conf]',
      'secrets:\n  db_pw: {file: ./pw.txt}\n  api_key: {environment: API_KEY}\nconfigs:\n  app_conf: {content: "debug=1"}\n'),
    { env: { API_KEY: 'k3y' }, files: { [`${TEST_DIR}/pw.txt`]: 's3cret' } });
    expect(t.diagnostics).toEqual([]);
    expect(t.shared.map((m) => [m.json.kind, (m.json.metadata as JsonMap).name, m.json.data, m.key])).toEqual([
      ['Secret', 'db-pw', { db_pw: Buffer.from('s3cret').toString('base64') }, 'secrets.db_pw'],
      ['Secret', 'api-key', { api_key: Buffer.from('k3y').toString('base64') }, 'secrets.api_key'],
      ['ConfigMap', 'app-conf', { app_conf: 'debug=1' }, 'configs.app_conf'],
    ]);
    const d = t.services[0]!.manifests.find((m) => m.json.kind === 'Deployment')!.json;
    expect(podSpec(d).volumes).toEqual([
      { name: 'secret-db-pw', secret: { secretName: 'db-pw' } },
      { name: 'secret-api-key', secret: { secretName: 'api-key' } },
      { name: 'config-app-conf', configMap: { name: 'app-conf' } },
    ]);
    expect(main(d).volumeMounts).toEqual([
      { name: 'secret-db-pw', mountPath: '/run/secrets/db_pw', subPath: 'db_pw', readOnly: true },
      { name: 'secret-api-key', mountPath: '/run/secrets/key.txt', subPath: 'api_key', readOnly: true },
      { name: 'config-app-conf', mountPath: '/app_conf', subPath: 'app_conf', readOnly: true },
    ]);
  });

  it('a secret from an unset variable is refused', () => {
    expect(errors(svc('secrets: [s]', 'secrets:\n  s: {environment: NOPE}\n'))).toEqual(['secrets.s.environment: variable NOPE is not set (in the environment or .env)']);
  });
});

describe('translation: depends_on, build, the project', () => {
  const two = (dep: string, dbExtra = ''): string => `services:\n  db:\n    image: r/db:1\n${dbExtra}  web:\n    image: r/web:1\n    depends_on:\n${dep}`;

  it('the list form: service_started, and dependencies come first', () => {
    const t = compose(two('      - db\n'));
    expect(t.services.map((s) => s.name)).toEqual(['db', 'web']);
    expect(t.services[1]!.dependsOn).toEqual([{ service: 'db', condition: 'service_started', required: true }]);
  });

  it('service_healthy needs a healthcheck on the dependency', () => {
    expect(errors(two('      db: {condition: service_healthy}\n'))).toEqual(['services.web.depends_on.db: condition service_healthy, but "db" has no healthcheck: give it one or use service_started']);
    expect(errors(two('      db: {condition: service_healthy}\n', '    healthcheck: {test: ["CMD", "true"]}\n'))).toEqual([]);
  });

  it('service_completed_successfully needs a one-shot dependency', () => {
    expect(errors(two('      db: {condition: service_completed_successfully}\n')).join()).toContain('set restart: "no"');
    const t = compose(two('      db: {condition: service_completed_successfully}\n', '    restart: "no"\n'));
    expect(t.services[0]!.kind).toBe('Pod');
  });

  it('an undefined dependency and a cycle are refused', () => {
    expect(errors(two('      - nope\n'))).toEqual(['services.web.depends_on.nope: depends on undefined service "nope"']);
    expect(errors('services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [a]}\n').join()).toContain('dependency cycle: a -> b -> a');
  });

  it('build without image: named after the project in the cluster registry', () => {
    const t = compose('services:\n  web:\n    build:\n      context: ./web\n      args: {V: "1"}\n');
    expect(t.services[0]).toMatchObject({ image: '127.0.0.1:5000/app/web:latest', build: { context: './web', args: { V: '1' } } });
  });

  it('project name: -p, else name:, normalised; the namespace and every object carry it', () => {
    const t = compose('name: My_Shop\nservices:\n  web: {image: x}\n');
    expect(t.namespace.json).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'my-shop', labels: { 'app.kubernetes.io/part-of': 'my_shop', 'com.docker.compose.project': 'my_shop', 'app.kubernetes.io/managed-by': 'skiff-compose' } } });
    for (const m of allManifests(t).slice(1)) expect((m.json.metadata as JsonMap).namespace).toBe('my-shop');
    expect(compose('name: x\nservices:\n  web: {image: x}\n', { project: 'Other' }).namespace.json.metadata).toMatchObject({ name: 'other' });
  });

  it('service names become DNS labels; two that collide are refused', () => {
    const t = compose('services:\n  Web_App: {image: x}\n');
    expect(t.services[0]!.objectName).toBe('web-app');
    expect(errors('services:\n  web_a: {image: x}\n  web.a: {image: x}\n').join()).toContain('both become "web-a"');
  });

  it('profiles: a service whose profile is not active is left out', () => {
    const text = 'services:\n  web: {image: x}\n  debug: {image: x, profiles: [dev]}\n';
    expect(compose(text).services.map((s) => s.name)).toEqual(['web']);
    expect(compose(text, { env: { COMPOSE_PROFILES: 'dev' } }).services.map((s) => s.name)).toEqual(['debug', 'web']);
  });
});
