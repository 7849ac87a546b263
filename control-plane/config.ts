// Command-line flags of skiff-control-plane, parsed with commander into one typed config.
import { hostname } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  DEFAULT_SERVICE_CLUSTER_IP_RANGE, DEFAULT_SERVICE_NODE_PORT_RANGE, parseIpRange, parsePortRange, type ServiceRanges,
} from './api/allocation/ranges.js';
import { RangeAllocator } from './controllers/nodeipam/allocator.js';
import { DEFAULT_DISRUPTION, type DisruptionConfig } from './controllers/nodelifecycle/disruption.js';
import { LOG_LEVELS } from './log.js';
import { parseAuthorizationModes, type AuthorizationMode } from './authz/authorizer.js';
import { parseDuration } from '../proto/api/duration.js';

export interface ControlPlaneConfig {
  etcdEndpoints: string[];
  listen: string;
  /** Kubernetes REST API address; '' when off. */
  restListen: string;
  /** Serving certificate files (gRPC and REST); '' for a self-signed one (in certDir when set, else in memory). */
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  certDir: string;
  /** PEM CAs whose client certificates authenticate; '' for none. */
  clientCaFile: string;
  /** etcd client TLS: the CA of etcd's serving certificate, our client certificate and key; '' for none. */
  etcdCaFile: string;
  etcdCertFile: string;
  etcdKeyFile: string;
  /** Node agents: the CA of their serving certificates, our client certificate and key ('' for none). */
  kubeletCertificateAuthority: string;
  kubeletClientCertificate: string;
  kubeletClientKey: string;
  metricsListen: string;
  /** /metrics without authentication (else a --token-file token or a --client-ca-file certificate). */
  metricsInsecure: boolean;
  tokenFile: string;
  identity: string;
  etcdPrefix: string;
  logLevel: string;
  controllers: boolean;
  leaderLeaseSeconds: number;
  nodeGracePeriodSeconds: number;
  podEvictionDelaySeconds: number;
  /** Node eviction rate limits and full-disruption mode (controllers/nodelifecycle/disruption.ts). */
  disruption: DisruptionConfig;
  eventTtlSeconds: number;
  serviceRanges: ServiceRanges;
  /** '' when node pod CIDRs are not allocated. */
  clusterCIDR: string;
  nodeCIDRMaskSize: number;
  /** '' when Secrets are stored unencrypted. */
  encryptionKeyFile: string;
  hpaSyncPeriodSeconds: number;
  /** --authorization-mode (in force only with --token-file). */
  authorizationModes: AuthorizationMode[];
  /** --enable-bootstrap-token-auth: bootstrap token Secrets in kube-system authenticate. */
  enableBootstrapTokenAuth: boolean;
  /** --cluster-signing-cert-file/--cluster-signing-key-file ('' : approved CSRs are not signed). */
  clusterSigningCertFile: string;
  clusterSigningKeyFile: string;
  /** --cluster-signing-duration in ms (8760 h). */
  clusterSigningDurationMs: number;
}

const positiveInt = (flag: string, unit = ' of seconds') => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${flag} wants a positive whole number${unit}, got "${v}"`);
  return n;
};

const nonNegative = (flag: string, max = Number.POSITIVE_INFINITY) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > max) {
    throw new InvalidArgumentError(`${flag} wants a number from 0${Number.isFinite(max) ? ` to ${max}` : ''}, got "${v}"`);
  }
  return n;
};

const hostPort = (flag: string) => (v: string): string => {
  if (!/^.+:\d+$/.test(v)) throw new InvalidArgumentError(`${flag} wants host:port, got "${v}"`);
  return v;
};

/** --rest-listen: "" (off), the given host:port, or the gRPC listener's host with its port + 1. */
export function restListenOf(listen: string, given: string | undefined): string {
  if (given === 'off') return '';
  if (given !== undefined) return hostPort('--rest-listen')(given);
  const i = listen.lastIndexOf(':');
  const port = Number(listen.slice(i + 1));
  return port === 0 ? `${listen.slice(0, i)}:0` : `${listen.slice(0, i)}:${port + 1}`;
}

export function parseConfig(argv: readonly string[], version = ''): ControlPlaneConfig {
  const cmd = new Command('skiff-control-plane')
    .description('Skiff control plane: the gRPC API server over etcd, and the controllers (leader only)')
    .version(version || 'unknown')
    .option('--etcd-endpoints <urls>', 'comma-separated etcd client URLs', 'http://127.0.0.1:2379')
    .option('--etcd-cafile <path>', 'PEM CA of etcd\'s serving certificate: talk to etcd over TLS (https:// endpoints)')
    .option('--etcd-certfile <path>', 'PEM client certificate for etcd (etcd --client-cert-auth), with --etcd-keyfile')
    .option('--etcd-keyfile <path>', 'PEM key of --etcd-certfile')
    .option('--kubelet-certificate-authority <path>', 'PEM CA of the node agents\' serving certificates (logs, exec, port-forward, metrics go to agents over mutual TLS)')
    .option('--kubelet-client-certificate <path>', 'PEM client certificate presented to node agents (CN kube-apiserver-kubelet-client), with --kubelet-client-key')
    .option('--kubelet-client-key <path>', 'PEM key of --kubelet-client-certificate')
    .option('--listen <host:port>', 'address of the gRPC API', hostPort('--listen'), '127.0.0.1:6443')
    .option('--rest-listen <host:port>', 'address of the Kubernetes REST API (kubectl, client libraries); default: the --listen host, port + 1; "off" turns it off')
    .option('--tls-cert-file <path>', 'PEM certificate the gRPC and REST APIs serve (with --tls-private-key-file); both serve TLS only')
    .option('--tls-private-key-file <path>', 'PEM key of --tls-cert-file')
    .option('--cert-dir <dir>', 'without --tls-cert-file: keep a self-signed serving certificate here (apiserver.crt, the CA clients trust); made on the first start')
    .addOption(new Option('--rest-tls-dir <dir>', 'old name of --cert-dir').hideHelp())
    .option('--client-ca-file <path>', 'PEM CA bundle: a client certificate it signed authenticates as user CN in groups O (alongside bearer tokens)')
    .option('--metrics-listen <host:port>', 'serve Prometheus /metrics here over HTTPS with the API\'s serving certificate (off when empty); scrapers send a --token-file token as "Authorization: Bearer" or a client certificate of --client-ca-file', hostPort('--metrics-listen'))
    .option('--metrics-insecure', 'serve /metrics (still over HTTPS) to anyone who reaches it, with no token or client certificate')
    .option('--token-file <path>', 'bearer tokens, one per line (Kubernetes static token file: token,user[,uid[,"group1,group2"]]); without it authentication is off')
    .option('--identity <name>', 'name of this process in leader election and logs', `${hostname()}-${process.pid}`)
    .option('--etcd-prefix <prefix>', 'key prefix of all Skiff data in etcd', '/skiff')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .option('--no-controllers', 'serve the API only; never run the controllers in this process')
    .option('--leader-lease-seconds <n>', 'TTL of the controller leader lease', positiveInt('--leader-lease-seconds'), 10)
    .option(
      '--node-grace-period <seconds>',
      'a node whose lease is older than this is marked NotReady/Unknown',
      positiveInt('--node-grace-period'),
      15,
    )
    .option(
      '--pod-eviction-delay <seconds>',
      'pods of a not-ready or unreachable node that have no toleration of their own are deleted (gracefully, and replaced elsewhere) this long after the node is tainted NoExecute; Kubernetes gets the same from the 300 s default tolerations its admission adds',
      positiveInt('--pod-eviction-delay'),
      20,
    )
    .option('--node-eviction-rate <nodes/s>', 'unhealthy nodes tainted NoExecute (their pods evicted) per second per zone', nonNegative('--node-eviction-rate'), DEFAULT_DISRUPTION.evictionRate)
    .option('--secondary-node-eviction-rate <nodes/s>', 'the same when a zone is partially disrupted (see --unhealthy-zone-threshold) and larger than --large-cluster-size-threshold; smaller zones stop evicting', nonNegative('--secondary-node-eviction-rate'), DEFAULT_DISRUPTION.secondaryEvictionRate)
    .option('--unhealthy-zone-threshold <share>', 'share of unhealthy nodes (at least 3) that makes a zone partially disrupted; when every zone has no healthy node at all, nothing is evicted (the control plane is cut off, not every node dead)', nonNegative('--unhealthy-zone-threshold', 1), DEFAULT_DISRUPTION.unhealthyZoneThreshold)
    .option('--large-cluster-size-threshold <n>', 'zones larger than this keep evicting at the secondary rate when partially disrupted', nonNegative('--large-cluster-size-threshold'), DEFAULT_DISRUPTION.largeClusterThreshold)
    .option('--event-ttl-seconds <n>', 'events are deleted this long after their last update (kube-apiserver --event-ttl)', positiveInt('--event-ttl-seconds'), 3600)
    .option('--service-cluster-ip-range <cidr>', 'IPv4 CIDR Service ClusterIPs are allocated from', DEFAULT_SERVICE_CLUSTER_IP_RANGE)
    .option('--service-node-port-range <from-to>', 'ports Service NodePorts are allocated from', DEFAULT_SERVICE_NODE_PORT_RANGE)
    .option('--cluster-cidr <cidr>', 'allocate each Node a pod CIDR (spec.podCIDR) from this IPv4 range, e.g. 10.244.0.0/16 (kube-controller-manager --allocate-node-cidrs); off when not given')
    .option('--node-cidr-mask-size <n>', 'prefix length of each node\'s pod CIDR, with --cluster-cidr', positiveInt('--node-cidr-mask-size', ''), 24)
    .option('--encryption-key-file <path>', 'encrypt Secrets at rest with AES-256-GCM: YAML/JSON "keys: [{name, secret}]", the first key writes, all read (see README)')
    .option('--authorization-mode <modes>', 'comma list of AlwaysAllow, Node, RBAC, tried in order (kube-apiserver\'s flag); in force with --token-file, without it every call is allowed', 'Node,RBAC')
    .option('--enable-bootstrap-token-auth', 'bootstrap tokens (Secrets of type bootstrap.kubernetes.io/token in kube-system, `skiff token create`) authenticate as system:bootstrap:<id> in system:bootstrappers')
    .option('--cluster-signing-cert-file <path>', 'PEM CA certificate that signs approved CertificateSigningRequests (with --cluster-signing-key-file)')
    .option('--cluster-signing-key-file <path>', 'PEM key of --cluster-signing-cert-file')
    .option('--cluster-signing-duration <duration>', 'lifetime of signed certificates (a CSR\'s spec.expirationSeconds may ask for less)', '8760h')
    .option('--horizontal-pod-autoscaler-sync-period <seconds>', 'how often every HorizontalPodAutoscaler is synced', positiveInt('--horizontal-pod-autoscaler-sync-period', ''), 15)
    .exitOverride()
    .showHelpAfterError();
  cmd.parse([...argv], { from: 'user' });
  const o = cmd.opts<{
    etcdEndpoints: string; listen: string; restListen?: string; tlsCertFile?: string; tlsPrivateKeyFile?: string; certDir?: string; restTlsDir?: string; clientCaFile?: string; etcdCafile?: string; etcdCertfile?: string; etcdKeyfile?: string; kubeletCertificateAuthority?: string; kubeletClientCertificate?: string; kubeletClientKey?: string; metricsListen?: string; metricsInsecure?: boolean; tokenFile?: string; identity: string;
    etcdPrefix: string; logLevel: string; controllers: boolean; leaderLeaseSeconds: number;
    nodeGracePeriod: number; podEvictionDelay: number; eventTtlSeconds: number;
    nodeEvictionRate: number; secondaryNodeEvictionRate: number; unhealthyZoneThreshold: number; largeClusterSizeThreshold: number;
    serviceClusterIpRange: string; serviceNodePortRange: string;
    clusterCidr?: string; nodeCidrMaskSize: number; encryptionKeyFile?: string; horizontalPodAutoscalerSyncPeriod: number;
    authorizationMode: string;
    enableBootstrapTokenAuth?: boolean; clusterSigningCertFile?: string; clusterSigningKeyFile?: string; clusterSigningDuration: string;
  }>();
  if (Boolean(o.clusterSigningCertFile) !== Boolean(o.clusterSigningKeyFile)) {
    throw new InvalidArgumentError('--cluster-signing-cert-file and --cluster-signing-key-file go together');
  }
  let clusterSigningDurationMs: number;
  try {
    clusterSigningDurationMs = parseDuration(o.clusterSigningDuration, '--cluster-signing-duration');
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  if (clusterSigningDurationMs < 600_000) throw new InvalidArgumentError(`--cluster-signing-duration must be at least 10m, got "${o.clusterSigningDuration}"`);
  let authorizationModes: AuthorizationMode[];
  try {
    authorizationModes = parseAuthorizationModes(o.authorizationMode);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  let serviceRanges: ServiceRanges;
  try {
    serviceRanges = { clusterIPs: parseIpRange(o.serviceClusterIpRange), nodePorts: parsePortRange(o.serviceNodePortRange) };
  } catch (e) {
    throw new InvalidArgumentError(`--service-cluster-ip-range / --service-node-port-range: ${(e as Error).message}`);
  }
  if (Boolean(o.tlsCertFile) !== Boolean(o.tlsPrivateKeyFile)) {
    throw new InvalidArgumentError('--tls-cert-file and --tls-private-key-file go together');
  }
  if (Boolean(o.etcdCertfile) !== Boolean(o.etcdKeyfile)) {
    throw new InvalidArgumentError('--etcd-certfile and --etcd-keyfile go together');
  }
  if (Boolean(o.kubeletClientCertificate) !== Boolean(o.kubeletClientKey)) {
    throw new InvalidArgumentError('--kubelet-client-certificate and --kubelet-client-key go together');
  }
  if (o.etcdCertfile && !o.etcdCafile) throw new InvalidArgumentError('--etcd-certfile needs --etcd-cafile (the CA of etcd\'s certificate)');
  if ((o.etcdCertfile || o.etcdCafile) && o.etcdEndpoints.split(',').some((e) => e.trim().startsWith('http://'))) {
    throw new InvalidArgumentError('--etcd-cafile/--etcd-certfile talk TLS: give https:// --etcd-endpoints');
  }
  if (o.metricsListen && !o.tokenFile && !o.clientCaFile && !o.metricsInsecure) {
    throw new InvalidArgumentError('--metrics-listen needs --token-file (scrapers send one of its tokens), --client-ca-file (scrapers present a client certificate it signed) or --metrics-insecure (no authentication)');
  }
  const endpoints = o.etcdEndpoints.split(',').map((s) => s.trim()).filter(Boolean);
  if (endpoints.length === 0) throw new InvalidArgumentError('--etcd-endpoints is empty');
  if (!o.etcdPrefix.startsWith('/') || o.etcdPrefix.endsWith('/')) {
    throw new InvalidArgumentError(`--etcd-prefix must start with "/" and not end with one, got "${o.etcdPrefix}"`);
  }
  if (o.clusterCidr) {
    try {
      new RangeAllocator(o.clusterCidr, o.nodeCidrMaskSize);
    } catch (e) {
      throw new InvalidArgumentError(`--cluster-cidr ${o.clusterCidr} with --node-cidr-mask-size ${o.nodeCidrMaskSize}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return {
    etcdEndpoints: endpoints,
    authorizationModes,
    enableBootstrapTokenAuth: o.enableBootstrapTokenAuth ?? false,
    clusterSigningCertFile: o.clusterSigningCertFile ?? '',
    clusterSigningKeyFile: o.clusterSigningKeyFile ?? '',
    clusterSigningDurationMs,
    listen: o.listen,
    restListen: restListenOf(o.listen, o.restListen),
    tlsCertFile: o.tlsCertFile ?? '',
    tlsPrivateKeyFile: o.tlsPrivateKeyFile ?? '',
    certDir: o.certDir ?? o.restTlsDir ?? '',
    clientCaFile: o.clientCaFile ?? '',
    etcdCaFile: o.etcdCafile ?? '',
    etcdCertFile: o.etcdCertfile ?? '',
    etcdKeyFile: o.etcdKeyfile ?? '',
    kubeletCertificateAuthority: o.kubeletCertificateAuthority ?? '',
    kubeletClientCertificate: o.kubeletClientCertificate ?? '',
    kubeletClientKey: o.kubeletClientKey ?? '',
    metricsListen: o.metricsListen ?? '',
    metricsInsecure: o.metricsInsecure ?? false,
    tokenFile: o.tokenFile ?? '',
    identity: o.identity,
    etcdPrefix: o.etcdPrefix,
    logLevel: o.logLevel,
    controllers: o.controllers,
    leaderLeaseSeconds: o.leaderLeaseSeconds,
    nodeGracePeriodSeconds: o.nodeGracePeriod,
    podEvictionDelaySeconds: o.podEvictionDelay,
    disruption: {
      evictionRate: o.nodeEvictionRate,
      secondaryEvictionRate: o.secondaryNodeEvictionRate,
      unhealthyZoneThreshold: o.unhealthyZoneThreshold,
      largeClusterThreshold: o.largeClusterSizeThreshold,
    },
    eventTtlSeconds: o.eventTtlSeconds,
    serviceRanges,
    clusterCIDR: o.clusterCidr ?? '',
    nodeCIDRMaskSize: o.nodeCidrMaskSize,
    encryptionKeyFile: o.encryptionKeyFile ?? '',
    hpaSyncPeriodSeconds: o.horizontalPodAutoscalerSyncPeriod,
  };
}
