// `skiff up`: a local one-node cluster on this machine (etcd, a registry with the sample images,
// containerd with CRI + CNI, the control plane, a node agent) as detached background processes
// under one state dir, then the example service. Every step first looks for what an earlier run
// left running and healthy, so running it again changes nothing.
import { existsSync } from 'node:fs';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { unwrapAs } from '../../proto/api/kinds.js';
import { Api } from '../client.js';
import { configPath, readConfig, writeConfig, type Settings } from '../config.js';
import type { ClientTls } from '../../proto/api/tls-client.js';
import { ensureAgentServing, ensurePki, etcdClientTls, pkiFiles, upClientTls } from './pki.js';
import { line, makeCtx, type Output } from '../context.js';
import { applyCommand } from '../commands/apply.js';
import { rolloutStatus } from '../commands/rollout.js';
import { readCaIfPresent, restServerFor, writeKubeconfig } from '../kubeconfig.js';
import { dirname } from 'node:path';
import { BRIDGE, containerdHealthy, POD_CIDR, writeContainerdConfig } from './containerd.js';
import { ensure, ensureEncryptionKey, nodeReady, said, withApi } from './ensure.js';
import { bootstrapTokenFile, ensureCredentials } from './credentials.js';
import { createJoinToken, forgetForeignCertificates, JOIN_TOKEN_TTL } from './join-token.js';
import { httpJson, httpOk, httpsOk } from './health.js';
import { buildSampleImages, pushImage, registryHas } from './images.js';
import { distEntry, layout, nodeLayout, repoRoot, type Layout } from './layout.js';
import { SMALL_PROCESS_NODE_FLAGS } from '../../proto/api/node-flags.js';
import { choosePorts, type ClusterPorts } from './ports.js';
import { chooseLan, lanNodes, loadLan, MAX_NODES, type Lan } from './lan.js';
import { multiNodeSteps, nodeTable } from './nodes.js';
import { sleep } from './processes.js';
import type { Reporter } from './report.js';

export interface UpOptions {
  stateDir: string;
  nodes: number;
  example: boolean;
  env: NodeJS.ProcessEnv;
  stdout: Output;
  stderr: Output;
  interactive: boolean;
}

export const REQUIRED_PROGRAMS: [program: string, pkg: string][] = [
  ['etcd', 'etcd-server'], ['docker-registry', 'docker-registry'], ['containerd', 'containerd'], ['runc', 'runc'],
  ['skopeo', 'skopeo'], ['umoci', 'umoci'], ['ip', 'iproute2'], ['iptables', 'iptables'],
];

async function onPath(program: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  for (const dir of (env.PATH ?? '/usr/bin:/bin').split(':').filter(Boolean)) {
    try {
      await access(join(dir, program));
      return true;
    } catch {
      // next dir
    }
  }
  return false;
}

/** Missing Debian packages, as the apt-get line that installs them (empty when none). */
export async function missingPackages(env: NodeJS.ProcessEnv): Promise<string[]> {
  const missing: string[] = [];
  for (const [prog, pkg] of REQUIRED_PROGRAMS) if (!(await onPath(prog, env))) missing.push(pkg);
  try {
    await access(join(env.CNI_BIN_DIR ?? '/usr/lib/cni', 'bridge'));
  } catch {
    missing.push('containernetworking-plugins');
  }
  try {
    await access('/bin/busybox');
  } catch {
    missing.push('busybox-static');
  }
  return missing;
}

export function nodeName(): string {
  return hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-') || 'node';
}

/** The example with image references pointing at this cluster's registry. */
async function exampleManifest(l: Layout, registry: string): Promise<string> {
  const src = join(repoRoot(), 'deploy', 'examples', 'hello.yaml');
  const text = await readFile(src, 'utf8');
  if (registry === '127.0.0.1:5000') return src;
  const out = join(l.stateDir, 'hello.yaml');
  await writeFile(out, text.replaceAll('127.0.0.1:5000/', `${registry}/`));
  return out;
}

export async function up(opts: UpOptions, rep: Reporter): Promise<number> {
  const { stdout, stderr } = opts;
  const multi = opts.nodes > 1;
  if (opts.nodes > MAX_NODES) {
    line(stderr, `skiff up: --nodes ${opts.nodes} is more than this machine's LAN plan allows (${MAX_NODES})`);
    return 1;
  }
  if (process.getuid?.() !== 0) {
    line(stderr, 'skiff up needs root: containerd and CNI networking (bridges, network namespaces, iptables) run as root.');
    line(stderr, `run: sudo ${process.execPath} ${distEntry('cli')} up${opts.stateDir ? ` --state-dir ${opts.stateDir}` : ''}`);
    return 1;
  }
  const missing = await missingPackages(opts.env);
  if (missing.length) {
    line(stderr, `skiff up: missing Debian packages: ${missing.join(' ')}`);
    line(stderr, `install them with: apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing.join(' ')}`);
    return 1;
  }
  const l = layout(opts.stateDir);
  await mkdir(l.stateDir, { recursive: true, mode: 0o700 });
  await mkdir(l.logs, { recursive: true });
  // One state dir holds one kind of cluster: its etcd remembers the nodes it had.
  const savedLan = await loadLan(l.lanFile);
  const hasCluster = existsSync(l.etcdData);
  if ((savedLan && savedLan.nodes !== opts.nodes) || (!savedLan && multi && hasCluster)) {
    line(stderr, `skiff up: ${l.stateDir} holds a ${savedLan?.nodes ?? 1}-node cluster; run \`skiff up${savedLan && savedLan.nodes > 1 ? ` --nodes ${savedLan.nodes}` : ''}\`, or \`skiff down --purge\` first, or use another --state-dir`);
    return 1;
  }
  let ports: ClusterPorts = { etcdClient: 0, etcdPeer: 0, registry: 0, api: 0, agent: 0 };
  const name = nodeName();
  let token = '';
  let tls: ClientTls = { ca: '' };
  const pki = pkiFiles(l);
  // Beside the CLI config, so one `skiff up` leaves both tools pointed at this cluster.
  const kubeconfig = join(dirname(configPath(opts.env)), 'kubeconfig');
  let lan: Lan | undefined;
  // Several nodes live in namespaces where 127.0.0.1 is their own: everything they reach
  // listens on the LAN bridge's host address, which the host reaches as well.
  const bind = (): string => lan?.hostAddress ?? '127.0.0.1';
  const server = (): string => `${bind()}:${ports.api}`;
  const registry = (): string => `${bind()}:${ports.registry}`;
  const node = process.execPath;
  const started = Date.now();

  try {
    await rep.step('prerequisites', async () => {
      ports = await choosePorts(l.portsFile);
      await ensureEncryptionKey(l);
      if (multi) lan = await chooseLan(l.lanFile, opts.nodes, opts.env);
      // Before the control plane starts: it reads the token file once.
      token = await ensureCredentials(l);
      await ensurePki(l, [bind()]);
      tls = await upClientTls(l);
      return `root, programs present, state in ${l.stateDir}`;
    });

    const steps = lan && multiNodeSteps({
      l, lan, rep, token: () => token, tls: () => tls, server, registry, agentPort: () => ports.agent,
    });
    if (steps) await steps.network();

    await rep.step('etcd', async () => {
      // TLS on loopback, client certificates of the cluster CA required (the control plane's).
      const endpoint = `https://127.0.0.1:${ports.etcdClient}`;
      const peer = `https://127.0.0.1:${ports.etcdPeer}`;
      const probe = await etcdClientTls(pki);
      const s = await ensure(l, 'etcd', () => httpsOk(`${endpoint}/health`, probe), () => Promise.resolve(['etcd', [
        '--name', 'skiff', '--data-dir', l.etcdData,
        '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
        '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `skiff=${peer}`,
        '--cert-file', pki.etcdCert, '--key-file', pki.etcdKey, '--client-cert-auth', '--trusted-ca-file', pki.caCert,
        '--peer-cert-file', pki.etcdCert, '--peer-key-file', pki.etcdKey, '--peer-client-cert-auth', '--peer-trusted-ca-file', pki.caCert,
      ]]), 30_000);
      return said(s, endpoint);
    });

    await rep.step('registry', async () => {
      const s = await ensure(l, 'registry', () => httpOk(`http://${registry()}/v2/`), async () => {
        await mkdir(l.registryDir, { recursive: true });
        const cfg = join(l.registryDir, 'config.yml');
        // Our own config: the packaged one listens on every interface with htpasswd auth.
        await writeFile(cfg, [
          'version: 0.1', 'log: {level: warn}',
          `storage: {filesystem: {rootdirectory: ${join(l.registryDir, 'data')}}, delete: {enabled: true}}`,
          `http: {addr: "${registry()}"}`, '',
        ].join('\n'));
        return ['docker-registry', ['serve', cfg]];
      }, 30_000);
      return said(s, registry());
    });

    await rep.step('sample images', async () => {
      const images = await buildSampleImages();
      let pushed = 0;
      for (const img of images) {
        if (await registryHas(registry(), img)) continue;
        await pushImage(registry(), img);
        pushed++;
      }
      const names = images.map((i) => `${i.name}:${i.tag}`).join(', ');
      return pushed ? `pushed ${pushed} to ${registry()} (${names})` : `already in ${registry()} (${names})`;
    });

    if (steps) await steps.containerds();
    else await rep.step('containerd (CRI + CNI)', async () => {
      const s = await ensure(l, 'containerd', () => containerdHealthy(l.containerdSocket), async () => {
        const cfg = await writeContainerdConfig(l, registry());
        return ['containerd', ['--config', cfg]];
      }, 60_000);
      return `${said(s, l.containerdSocket)}, bridge ${BRIDGE} ${POD_CIDR}`;
    });

    await rep.step('control plane', async () => {
      const s = await ensure(l, 'control-plane', () => withApi(server(), token, tls, (api) => api.version().then(() => true)), () => Promise.resolve([node, [
        ...SMALL_PROCESS_NODE_FLAGS, distEntry('control-plane'), '--etcd-endpoints', `https://127.0.0.1:${ports.etcdClient}`, '--listen', server(),
        '--etcd-cafile', pki.caCert, '--etcd-certfile', pki.etcdClientCert, '--etcd-keyfile', pki.etcdClientKey,
        '--token-file', l.tokenFile, '--etcd-prefix', '/skiff', '--identity', `${name}-control-plane`,
        '--encryption-key-file', l.encryptionKeyFile,
        // TLS only, with the certificate made from the cluster CA (both APIs: the REST API for
        // kubectl is on the gRPC port + 1); certificates of that CA authenticate (CN/O).
        '--tls-cert-file', pki.servingCert, '--tls-private-key-file', pki.servingKey, '--client-ca-file', pki.caCert,
        // Node agents: mutual TLS, this certificate being the one caller they accept.
        '--kubelet-certificate-authority', pki.caCert, '--kubelet-client-certificate', pki.kubeletClientCert, '--kubelet-client-key', pki.kubeletClientKey,
        // Agents join with a bootstrap token and get node certificates signed by the cluster CA.
        '--enable-bootstrap-token-auth', '--cluster-signing-cert-file', pki.caCert, '--cluster-signing-key-file', pki.caKey,
        ...(lan ? ['--cluster-cidr', lan.clusterCidr, '--node-cidr-mask-size', '24'] : []),
      ]]), 60_000);
      return said(s, server());
    });

    await rep.step('bootstrap token', async () => {
      const certDirs = lan ? lanNodes(lan).map((n) => join(nodeLayout(l, n.name).agentDir, 'pki')) : [join(l.agentDir, 'pki')];
      const caPem = await readFile(pki.caCert, 'utf8');
      let forgotten = 0;
      for (const d of certDirs) if (await forgetForeignCertificates(d, caPem)) forgotten++;
      const api = new Api({ server: server(), token, tls, timeoutMs: 10_000 });
      let id: string;
      try {
        id = await createJoinToken(api, l);
      } finally {
        api.close();
      }
      const again = forgotten ? `; ${forgotten} agent certificate(s) of an old CA dropped, those agents join again` : '';
      return `${id} (TTL ${JOIN_TOKEN_TTL}) in ${bootstrapTokenFile(l)}; agents keep their certificates in their state dirs${again}`;
    });

    if (steps) {
      await steps.agents();
      await steps.hostLb();
    }
    else await rep.step(`node agent (${name})`, async () => {
      const serving = await ensureAgentServing(l, name, ['127.0.0.1']);
      const s = await ensure(l, 'node-agent', () => withApi(server(), token, tls, (api) => nodeReady(api, name)), () => Promise.resolve([node, [
        ...SMALL_PROCESS_NODE_FLAGS, distEntry('node-agent'), '--control-plane', server(), '--bootstrap-token-file', bootstrapTokenFile(l), '--cert-dir', join(l.agentDir, 'pki'), '--ca-file', pki.caCert, '--node-name', name,
        '--tls-cert-file', serving.cert, '--tls-private-key-file', serving.key, '--client-ca-file', pki.caCert,
        '--runtime', 'cri', '--containerd-socket', l.containerdSocket, '--pod-cidr', POD_CIDR,
        // One machine: the agent publishes the loopback address it listens on, where the control
        // plane reaches it (logs).
        '--state-dir', l.agentDir, '--listen', `127.0.0.1:${ports.agent}`,
        // `skiff down` stops everything: the Service rules go with the agent.
        '--cleanup',
      ]]), 90_000);
      return `${s.fresh ? 'started' : 'already running'} (pid ${s.pid}), node ${name} Ready`;
    });

    await rep.step('CLI config', async () => {
      const path = configPath(opts.env);
      const cfg = await readConfig(path);
      // The namespace the user chose stays; server, CA and credentials now point at this cluster.
      await writeConfig(path, {
        ...cfg, server: server(), token, 'certificate-authority': pki.caCert,
        'client-certificate': pki.adminCert, 'client-key': pki.adminKey,
      });
      return `${path} (server ${server()})`;
    });

    await rep.step('kubeconfig', async () => {
      const ca = await readCaIfPresent(pki.caCert);
      await writeKubeconfig(kubeconfig, { server: restServerFor(server()), token, namespace: 'default', ca });
      return `${kubeconfig} (REST API ${restServerFor(server())})`;
    });
  } catch {
    await rep.finish();
    line(stderr, `skiff up failed; logs are in ${l.logs}, \`skiff down\` stops what was started`);
    return 1;
  }

  const settings: Settings = {
    server: server(), token, namespace: 'default', origin: { server: 'config', token: 'config', namespace: 'default' }, tls,
  };
  const captured: string[] = [];
  const ctx = makeCtx({
    settings, explicitNamespace: false, stdout: { write: (s: string) => captured.push(s) }, stderr, interactive: false, timeoutMs: 10_000,
  });
  try {
    if (opts.example) {
      try {
        await rep.step('example service (deploy/examples/hello.yaml)', async () => {
          captured.length = 0;
          await applyCommand(ctx, { filenames: [await exampleManifest(l, registry())], dryRun: false });
          return captured.join('').trim();
        });
      } catch {
        await rep.finish();
        return 1;
      }
    }
    await rep.finish();
    line(stdout, `\nkubectl works too: export KUBECONFIG=${kubeconfig}`);
    if (lan) {
      line(stdout, `\n${lan.nodes} nodes on the LAN ${lan.subnet} (bridge ${lan.bridge}, host ${lan.hostAddress}), Ready ${((Date.now() - started) / 1000).toFixed(1)}s after start:`);
      for (const row of await nodeTable(ctx.api(), lan)) line(stdout, `  ${row}`);
    }
    if (!opts.example) {
      line(stdout, `\nThe cluster is up. Try: skiff get nodes; skiff apply -f deploy/examples/hello.yaml; skiff down`);
      return 0;
    }
    line(stdout, '');
    const rolloutCtx = makeCtx({ settings, explicitNamespace: false, stdout, stderr, interactive: opts.interactive, timeoutMs: 10_000 });
    let code: number;
    try {
      code = await rolloutStatus(rolloutCtx, ['deploy/hello'], '5m');
    } finally {
      rolloutCtx.close();
    }
    if (code !== 0) {
      line(stderr, `the example did not roll out; see \`skiff describe deploy hello\`, \`skiff get pods\` and the logs in ${l.logs}`);
      return code;
    }
    // With several nodes the proxies run in the node namespaces: the host reaches n1's over the LAN.
    await printNextSteps(ctx.api(), stdout, registry(), lan ? (lanNodes(lan)[0]?.address ?? bind()) : '127.0.0.1');
    return 0;
  } finally {
    ctx.close();
  }
}

/** Pod IPs of the example, once each answers on /health (a restarted pod's status may be stale). */
async function answeringPods(api: Api, timeoutMs: number): Promise<{ name: string; ip: string; ok: boolean }[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const pods = (await api.list({ kind: 'Pod', namespace: 'default', labelSelector: 'app=hello' })).items
      .map((r) => unwrapAs('Pod', r))
      .filter((p) => !p.metadata?.deletionTimestamp && p.status?.podIP);
    const checked = await Promise.all(pods.map(async (p) => {
      const ip = p.status?.podIP ?? '';
      return { name: p.metadata?.name ?? '', ip, ok: await httpOk(`http://${ip}:8080/health`) };
    }));
    if ((checked.length > 0 && checked.every((c) => c.ok)) || Date.now() > end) return checked;
    await sleep(500);
  }
}

/** The example Service's NodePort and the pods that answered a few requests to it on host (127.0.0.1, or node n1's LAN address). */
async function nodePortAnswers(api: Api, host: string, timeoutMs: number): Promise<{ port: number; pods: string[] }> {
  const svc = unwrapAs('Service', await api.get({ kind: 'Service', namespace: 'default', name: 'hello' }));
  const port = svc.spec?.ports[0]?.nodePort ?? 0;
  const end = Date.now() + timeoutMs;
  const pods: string[] = [];
  // The proxy programs the endpoints a moment after the pods turn ready.
  while (port && pods.length < 6 && Date.now() < end) {
    const pod = (await httpJson<{ pod?: string }>(`http://${host}:${port}/`))?.pod;
    if (pod) pods.push(pod);
    else await sleep(250);
  }
  return { port, pods };
}

async function printNextSteps(api: Api, out: Output, registry: string, nodePortHost: string): Promise<void> {
  const { port, pods: served } = await nodePortAnswers(api, nodePortHost, 60_000);
  if (served.length) {
    line(out, `\nThe example service answers on its NodePort (Service hello, ClusterIP inside the cluster):`);
    line(out, `  curl http://${nodePortHost}:${port}/`);
    line(out, `  # ${served.length} requests just now were served by: ${served.join(', ')}`);
  } else {
    line(out, `\nThe example Service's NodePort ${port} did not answer yet; \`skiff describe svc hello\` shows its endpoints.`);
  }
  const pods = await answeringPods(api, 60_000);
  line(out, '\nEach pod also answers on its own IP:');
  for (const p of pods) line(out, `  curl http://${p.ip}:8080/      # ${p.name}${p.ok ? '' : ' (not answering yet)'}`);
  line(out, '\nNext, try:');
  for (const c of [
    'skiff get pods -o wide',
    'skiff scale deploy/hello --replicas 5',
    `skiff set image deploy/hello hello=${registry}/skiff/hello:2 && skiff rollout status deploy/hello`,
    'skiff rollout undo deploy/hello',
    'skiff logs deploy/hello',
    'skiff down            # stop the cluster (data kept; --purge removes it)',
  ]) line(out, `  ${c}`);
}
