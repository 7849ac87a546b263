#!/usr/bin/env node
// skiff-node-agent: runs the node agent for this machine against a Skiff control plane.
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import pino, { type Logger } from 'pino';
import { DEFAULT_MAX_PARALLEL_STARTS, NodeAgent } from './agent.js';
import { DEFAULT_NODEFS_AVAILABLE, parseDiskThreshold, type DiskThreshold } from './node-health.js';
import type { Runtime } from './runtime/runtime.js';
import { parseCidr } from '../proto/api/cidr.js';
import { memoryBytes } from '../proto/api/quantity.js';
import { DEFAULT_LOG_MAX_FILES } from './log-rotation.js';
import type { AgentServingTls } from './server-tls.js';
import type { MetricsTls } from '../proto/api/metrics-auth.js';
import { CertificateRotator, ensureClientCertificate } from './certificates/manager.js';
import { realClock } from '../proto/api/clock.js';

export { NodeAgent, type NodeAgentOptions } from './agent.js';

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive whole number, got "${v}"`);
    return n;
  };
}

export function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError(`--node-labels: "${part}" is not key=value`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

function cidrFlag(name: string) {
  return (v: string): string => {
    const c = parseCidr(v);
    if (typeof c === 'string') throw new InvalidArgumentError(`${name}: ${c}`);
    return v;
  };
}

function diskFlag(v: string): DiskThreshold {
  try {
    return parseDiskThreshold(v);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
}

async function makeRuntime(kind: string, socket: string, nodeName: string, podCidr: string, log: Logger): Promise<Runtime> {
  if (kind === 'fake') {
    const { FakeRuntime } = await import('./runtime/fake/driver.js');
    const { FakeHost } = await import('./runtime/fake/host.js');
    return new FakeRuntime({ host: new FakeHost(podCidr ? { podCidr } : {}), nodeName });
  }
  // Imported lazily: --runtime fake must work where the CRI client is absent.
  const { CriRuntime } = await import('./runtime/cri/driver.js');
  return new CriRuntime({ address: socket.includes('://') ? socket : `unix://${socket}`, nodeName, log });
}

async function main(): Promise<void> {
  const program = new Command('skiff-node-agent')
    .description('Skiff node agent: registers this machine and runs the pods bound to it')
    .option('--control-plane <addrs>', 'control plane gRPC address, or a comma list of them (IP:port; or one DNS name resolving to several): the agent uses one and moves to another when it fails', '127.0.0.1:6443')
    .option('--token <token>', 'bearer token for the control plane')
    .option('--token-file <path>', 'file holding the bearer token')
    .option('--bootstrap-token-file <path>', 'file holding a bootstrap token ("<id>.<secret>", `skiff token create`): with no valid certificate in --cert-dir, ask the control plane for one with it')
    .option('--cert-dir <dir>', 'keep the client certificate here (kubelet-client-current.pem); with it the agent authenticates with its certificate, not a token')
    .option('--no-rotate-certificates', 'do not renew the client certificate before it expires (renewal is on by default)')
    .option('--ca-file <path>', 'PEM CA that signed the control plane\'s serving certificate (default: the system\'s roots); the control plane serves TLS only')
    .option('--node-name <name>', 'name of this node', hostname())
    .option('--containerd-socket <path>', 'containerd socket (CRI)', '/run/containerd/containerd.sock')
    .option('--runtime <kind>', 'cri or fake', 'cri')
    .option('--pod-cidr <cidr>', 'pod network of this node, e.g. 10.88.1.0/24; when not given, the range the control plane puts in this Node\'s spec.podCIDR (skiff-control-plane --cluster-cidr)', cidrFlag('--pod-cidr'), '')
    .option('--cluster-cidr <cidr>', 'the whole pod network (every node\'s range), e.g. 10.244.0.0/16: pod traffic leaving it is masqueraded (nft table skiff-nat), and routes to other nodes are on by default', cidrFlag('--cluster-cidr'), '')
    .option('--routes', 'keep one route per other Ready node, podCIDR via its InternalIP (host-gw; default: on when --cluster-cidr is given)')
    .option('--no-routes', 'leave routes and masquerading to something else')
    .option('--proxy', 'program Services into nftables (kube-proxy\'s nftables mode; default: on with --runtime cri)')
    .option('--no-proxy', 'leave Service traffic to something else')
    .option('--proxy-table <name>', 'the nft table (family ip) the proxy owns', 'skiff-proxy')
    .option('--service-cluster-ip-range <cidr>', 'Service ClusterIP range (as the control plane\'s flag): anything sent there that no rule rewrote is rejected', cidrFlag('--service-cluster-ip-range'), '10.96.0.0/16')
    .option('--cluster-dns', 'serve cluster DNS for pods on this node (default: on with --runtime cri)')
    .option('--no-cluster-dns', 'pods use the node\'s own resolver')
    .option('--cluster-dns-address <ip>', 'address the DNS server listens on and pods use (default: the pod network\'s gateway, the pod CIDR\'s first address)')
    .option('--cluster-domain <domain>', 'the cluster\'s DNS domain', 'cluster.local')
    .option('--cleanup', 'on shutdown, remove what the agent programmed on the node (the proxy\'s nft table)')
    .option('--state-dir <dir>', 'where the agent keeps pod records, volumes and logs', '/var/lib/skiff/agent')
    .option('--local-path-dir <dir>', 'where the built-in local-path provisioner keeps PersistentVolume directories (default: <state-dir>/volumes/local-path)')
    .option('--listen <addr>', 'NodeAgent gRPC address (published in the Node status); serves mutual TLS: only the control plane may call', '127.0.0.1:10250')
    .option('--tls-cert-file <path>', 'PEM serving certificate of the NodeAgent service (for the --node-ip / --listen address), signed by the cluster CA')
    .option('--tls-private-key-file <path>', 'PEM key of --tls-cert-file')
    .option('--client-ca-file <path>', 'PEM CA of callers\' client certificates (the cluster CA); only the control plane\'s (CN kube-apiserver-kubelet-client) is accepted')
    .option('--metrics-listen <addr>', 'serve Prometheus /metrics here (host:port), over HTTPS with --tls-cert-file; scrapers send the agent\'s --token as "Authorization: Bearer" or a client certificate of --client-ca-file (the control plane\'s, CN kube-apiserver-kubelet-client, or a user in system:masters). Without --tls-cert-file it is plain HTTP (a warning is logged)')
    .option('--metrics-insecure', 'serve /metrics without authentication (still HTTPS with --tls-cert-file)')
    .option('--node-labels <k=v,...>', 'extra labels for the Node', parseLabels, {})
    .option('--node-ip <ip>', 'InternalIP to publish, where the control plane reaches the agent (default: the --listen IP when it is one address, else the first non-loopback IPv4)')
    .option('--eviction-hard-nodefs-available <amount>', 'the node reports DiskPressure (and the control plane taints it node.kubernetes.io/disk-pressure:NoSchedule) when the filesystem under --state-dir has less free space than this: a percentage or a quantity (1Gi)', diskFlag, parseDiskThreshold(DEFAULT_NODEFS_AVAILABLE))
    .option('--heartbeat-seconds <n>', 'lease renewal period', int('--heartbeat-seconds'), 5)
    .option('--stats-interval <seconds>', 'how often container CPU and memory are sampled for resource metrics (0: off)', int('--stats-interval'), 10)
    .option('--max-parallel-starts <n>', 'sandbox and container start calls to the runtime in flight at once (0: no bound)', (v: string) => (v === '0' ? 0 : int('--max-parallel-starts')(v)), DEFAULT_MAX_PARALLEL_STARTS)
    .option('--crashloop-initial-seconds <n>', 'first restart back-off', int('--crashloop-initial-seconds'), 10)
    .option('--crashloop-max-seconds <n>', 'longest restart back-off', int('--crashloop-max-seconds'), 300)
    .option('--max-log-follows <n>', 'followed log streams (logs -f) served at once; more are refused with TooManyRequests', int('--max-log-follows'), 64)
    .option('--container-log-max-size <quantity>', 'a running container\'s log file is rotated once larger than this (kubelet --container-log-max-size)', '10Mi')
    .option('--container-log-max-files <n>', 'log files kept per container, the live one included (at least 2)', int('--container-log-max-files'), DEFAULT_LOG_MAX_FILES)
    .option('--log-level <level>', 'pino log level', 'info');
  program.parse();
  const o = program.opts<{
    controlPlane: string; token?: string; tokenFile?: string; caFile?: string; bootstrapTokenFile?: string; certDir?: string; rotateCertificates: boolean; tlsCertFile?: string; tlsPrivateKeyFile?: string; clientCaFile?: string; nodeName: string; containerdSocket: string;
    runtime: string; podCidr: string; stateDir: string; listen: string; metricsListen?: string; metricsInsecure?: boolean;
    nodeLabels: Record<string, string>; nodeIp?: string; heartbeatSeconds: number; evictionHardNodefsAvailable: DiskThreshold; statsInterval: number; maxParallelStarts: number;
    crashloopInitialSeconds: number; crashloopMaxSeconds: number; maxLogFollows: number; logLevel: string;
    containerLogMaxSize: string; containerLogMaxFiles: number;
    clusterCidr: string; routes?: boolean;
    proxy?: boolean; proxyTable: string; serviceClusterIpRange: string;
    clusterDns?: boolean; clusterDnsAddress?: string; clusterDomain: string; cleanup?: boolean; localPathDir?: string;
  }>();
  const log = pino({ level: o.logLevel });
  if (o.runtime !== 'cri' && o.runtime !== 'fake') program.error(`--runtime must be cri or fake, got "${o.runtime}"`);
  if (o.crashloopMaxSeconds < o.crashloopInitialSeconds) program.error('--crashloop-max-seconds must be at least --crashloop-initial-seconds');
  let token = o.token;
  if (o.tokenFile) {
    try {
      token = readFileSync(o.tokenFile, 'utf8').trim();
    } catch (e) {
      program.error(`cannot read --token-file ${o.tokenFile}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  let ca = '';
  if (o.caFile) {
    try {
      ca = readFileSync(o.caFile, 'utf8');
    } catch (e) {
      program.error(`cannot read --ca-file ${o.caFile}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  let serving: AgentServingTls | undefined;
  let metricsTls: MetricsTls | undefined;
  if (o.listen) {
    if (!o.tlsCertFile || !o.tlsPrivateKeyFile || !o.clientCaFile) {
      program.error('--listen serves mutual TLS: give --tls-cert-file, --tls-private-key-file and --client-ca-file (or --listen "" to serve nothing)');
    }
    try {
      serving = { cert: readFileSync(o.tlsCertFile ?? '', 'utf8'), key: readFileSync(o.tlsPrivateKeyFile ?? '', 'utf8'), clientCa: readFileSync(o.clientCaFile ?? '', 'utf8') };
    } catch (e) {
      program.error(`cannot read the NodeAgent TLS files: ${e instanceof Error ? e.message : String(e)}`);
    }
  } else if (o.metricsListen && o.tlsCertFile && o.tlsPrivateKeyFile) {
    // No NodeAgent service, but /metrics still serves HTTPS with the certificate.
    try {
      metricsTls = { cert: readFileSync(o.tlsCertFile, 'utf8'), key: readFileSync(o.tlsPrivateKeyFile, 'utf8'), clientCa: o.clientCaFile ? readFileSync(o.clientCaFile, 'utf8') : undefined };
    } catch (e) {
      program.error(`cannot read the /metrics TLS files: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const containerLogMaxSize = memoryBytes(o.containerLogMaxSize);
  if (!(containerLogMaxSize > 0)) program.error(`--container-log-max-size must be a positive quantity (e.g. 10Mi), got "${o.containerLogMaxSize}"`);
  if (o.containerLogMaxFiles < 2) program.error('--container-log-max-files must be at least 2 (the live file and one rotated)');
  // An agent that joined with a bootstrap token has no token of its own: its scrapers need a
  // client certificate (of --client-ca-file) unless --metrics-insecure.
  if (o.metricsListen && !o.metricsInsecure && !token && !(serving ?? metricsTls)?.clientCa) {
    program.error('--metrics-listen has no way to authenticate scrapers: give --tls-cert-file, --tls-private-key-file and --client-ca-file (scrapers present a client certificate of that CA: the control plane\'s or a system:masters user\'s), --token/--token-file (scrapers send it), or --metrics-insecure');
  }
  let bootstrapToken: string | undefined;
  if (o.bootstrapTokenFile) {
    try {
      bootstrapToken = readFileSync(o.bootstrapTokenFile, 'utf8').trim();
    } catch (e) {
      // Not fatal yet: a valid certificate in --cert-dir makes the token unnecessary.
      log.warn({ err: e instanceof Error ? e.message : String(e) }, `cannot read --bootstrap-token-file ${o.bootstrapTokenFile}`);
    }
  }
  if (o.bootstrapTokenFile && !o.certDir) program.error('--bootstrap-token-file needs --cert-dir (where the issued certificate is kept)');
  const certOptions = o.certDir
    ? { certDir: resolve(o.certDir), nodeName: o.nodeName, controlPlane: o.controlPlane, ca, bootstrapToken, clock: realClock, log: log.child({ component: 'certificates' }) }
    : undefined;
  const clientPair = certOptions ? await ensureClientCertificate(certOptions) : undefined;
  const runtime = await makeRuntime(o.runtime, o.containerdSocket, o.nodeName, o.podCidr, log);
  const agent = new NodeAgent({
    nodeName: o.nodeName,
    controlPlane: o.controlPlane,
    // With a certificate the agent is its identity; a token would only be a second one.
    token: clientPair ? undefined : token,
    tls: clientPair ? { ca, cert: clientPair.cert, key: clientPair.key } : { ca },
    runtime,
    stateDir: o.stateDir,
    podCIDR: o.podCidr,
    clusterCIDR: o.clusterCidr,
    routes: o.routes,
    serviceProxy: (o.proxy ?? o.runtime === 'cri') ? { serviceCIDR: o.serviceClusterIpRange, table: o.proxyTable } : undefined,
    clusterDNS: (o.clusterDns ?? o.runtime === 'cri') ? { domain: o.clusterDomain, address: o.clusterDnsAddress } : undefined,
    cleanup: o.cleanup,
    nodeLabels: o.nodeLabels,
    listen: o.listen,
    serving,
    metricsListen: o.metricsListen,
    metricsInsecure: o.metricsInsecure ?? false,
    metricsTls,
    // Accepted from scrapers even when the control plane gets the client certificate instead.
    metricsToken: token,
    heartbeatMs: o.heartbeatSeconds * 1000,
    diskThreshold: o.evictionHardNodefsAvailable,
    statsIntervalMs: o.statsInterval * 1000,
    maxParallelStarts: o.maxParallelStarts,
    backoff: { initialMs: o.crashloopInitialSeconds * 1000, maxMs: o.crashloopMaxSeconds * 1000 },
    nodeIP: o.nodeIp,
    maxLogFollows: o.maxLogFollows,
    containerLogMaxSize,
    containerLogMaxFiles: o.containerLogMaxFiles,
    localPathDir: resolve(o.localPathDir ?? join(o.stateDir, 'volumes', 'local-path')),
    log,
  });
  await agent.start();
  const rotator = clientPair && certOptions && o.rotateCertificates ? new CertificateRotator(agent.api, clientPair, certOptions) : undefined;
  rotator?.start();
  const shutdown = (sig: string): void => {
    log.info({ signal: sig }, 'stopping (containers keep running)');
    rotator?.stop();
    agent.stop().then(
      () => runtime.close().finally(() => process.exit(0)),
      (e: unknown) => {
        log.error({ err: String(e) }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

function isEntryPoint(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// Importing this module (benchmarks use NodeAgent) must not start an agent.
if (isEntryPoint()) {
  main().catch((e: unknown) => {
    process.stderr.write(`skiff-node-agent: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
