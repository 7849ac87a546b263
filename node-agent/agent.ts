// The node agent (Skiff's kubelet): registers its Node and renews its Lease, watches the pods
// bound to it and runs one PodWorker per pod against the Runtime, re-attaching to what it made
// before a restart. Losing the control plane never stops containers ("static stability"):
// workers keep restarting crashed containers per policy and status catches up on reconnect.
// Many agents can run in one process (benchmarks): each has its own channel, lease and watch.
import type { Server } from '@grpc/grpc-js';
import { mkdir } from 'node:fs/promises';
import pino, { type Logger } from 'pino';
import { Pod } from '../proto/gen/skiff/v1/core.js';
import type { AgentStatus } from '../proto/gen/skiff/v1/agent.js';
import type { ClientTls } from '../proto/api/tls-client.js';
import type { AgentServingTls } from './server-tls.js';
import { AgentApi, DEFAULT_API_TIMEOUT_MS } from './api-client.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { realClock, sleep, type Clock } from '../proto/api/clock.js';
import { AgentEvents } from './events.js';
import { Heartbeat } from './heartbeat.js';
import { AgentMetrics } from './metrics.js';
import { DEFAULT_LOG_MAX_FILES, DEFAULT_LOG_MAX_SIZE, LogRotator } from './log-rotation.js';
import { authorizeMetrics, createMetricsServer, singleToken, type MetricsAccess, type MetricsServer, type MetricsTls } from '../proto/api/metrics-auth.js';
import { KUBELET_CLIENT_USER, MASTERS_GROUP } from '../proto/api/pki/index.js';
import { chooseNodeIP, listenIP, type NodeIdentity } from './node-info.js';
import { podPaths, sandboxConfig } from './pod-config.js';
import { loadRecords, type PodRecord } from './pod-record.js';
import { PodSource } from './pod-source.js';
import { ListWatch } from './list-watch.js';
import { commandExec, type Exec } from './network/exec.js';
import { PodCidrWait } from './network/pod-cidr.js';
import { RouteReconciler } from './network/routes/reconciler.js';
import { PROGRAMMED_REVISION_ANNOTATION, ServiceNetwork } from './network/service-network.js';
import { formatIPv4, mustParseCidr } from '../proto/api/cidr.js';
import { IpRouteTable, type RouteTable } from './network/routes/route-table.js';
import { PodWorker, type WorkerContext } from './pod/worker.js';
import { StatusWriter } from './pod/status-writer.js';
import { PodConfigSource, podRefs, refKey } from './config/index.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from './runtime/labels.js';
import { canStreamExec, type ContainerHandle, type ContainerInfo, type Runtime, type SandboxHandle } from './runtime/runtime.js';
import { errors } from '../proto/api/errors.js';
import { Semaphore } from '../proto/api/semaphore.js';
import { serveNodeAgent } from './server.js';
import { assess, DEFAULT_NODEFS_AVAILABLE, parseDiskThreshold, probeHealth, type DiskThreshold } from './node-health.js';
import { claimHostPath } from './volumes/claim-path.js';
import { LocalPathProvisioner } from './volumes/local-path/provisioner.js';
import { StatsSampler } from './stats/sampler.js';
import type { PodContainer } from './stats/usage.js';

/** metrics-server's default resolution is 15 s; a little faster lets an autoscaler react sooner. */
export const DEFAULT_STATS_INTERVAL_MS = 10_000;

/**
 * Measured with `npm run bench -- real-node` (raw CRI, 50 pods all started, best of 2 per run;
 * three runs on 2026-12-02 on the 2-core VM shared with other builds, load 20-35): at 1 start
 * chain at once 14.2 / 21.5 / 14.4 s, 2: 10.0 / 13.7 / 9.5, 4: 8.7 / 11.0 / 12.7, 8: 8.4 / 15.0 /
 * 11.3, 16: 6.8 / 13.5 / 9.6, unbounded (50): 6.4 / 9.9 / 11.1. From 16 up the burst ends about
 * as soon as unbounded (within this machine's noise), and each pod's own start is shorter (p50
 * 2.4 s at 16 vs 6.4 s unbounded in the first run): the pods that get a slot run early.
 */
export const DEFAULT_MAX_PARALLEL_STARTS = 16;

export interface NodeAgentOptions {
  nodeName: string;
  /** host:port of the control plane's gRPC API. */
  controlPlane: string;
  token?: string;
  /** The cluster CA the control plane's certificate is checked against (and our client certificate, if any). */
  tls: ClientTls;
  runtime: Runtime;
  stateDir: string;
  /** This node's pod range; when empty the agent waits for its Node's spec.podCIDR. */
  podCIDR?: string;
  /** The whole pod network (all nodes' ranges): pod traffic leaving it is masqueraded. */
  clusterCIDR?: string;
  /** The nftables Service proxy (kube-proxy's nftables mode); undefined: off. */
  serviceProxy?: { serviceCIDR: string; table?: string };
  /** The node's cluster DNS server; undefined: off. The address defaults to the pod CIDR's gateway (.1). */
  clusterDNS?: { domain: string; address?: string; port?: number };
  /** On stop, remove what the agent programmed on the node (the proxy's nft table). */
  cleanup?: boolean;
  /** Keep host-gw routes to other nodes' pod ranges (default: on when clusterCIDR is given). */
  routes?: boolean;
  /** Runs ip/nft for the routes and masquerade (default: here; tests run them in a namespace). */
  netExec?: Exec;
  routeTable?: RouteTable;
  /** Name of the agent's nftables table (default skiff-nat). */
  natTable?: string;
  nodeLabels?: Record<string, string>;
  /** NodeAgent gRPC address (host:port, port 0 picks one); "" serves nothing. */
  listen?: string;
  /** The NodeAgent service's certificate and the CA of its one caller, the control plane (required with listen). */
  serving?: AgentServingTls;
  /** host:port for /metrics; "" or undefined serves nothing. */
  metricsListen?: string;
  /** /metrics without authentication (still HTTPS when there is a certificate). */
  metricsInsecure?: boolean;
  /**
   * /metrics' TLS (default: serving): served over HTTPS with its certificate, and a client
   * certificate of its clientCa lets the control plane (KUBELET_CLIENT_USER) or a cluster admin
   * (system:masters) in. Without it /metrics is plain HTTP.
   */
  metricsTls?: MetricsTls;
  /** A bearer token scrapers may send instead (default: token, the agent's control-plane token). */
  metricsToken?: string;
  heartbeatMs?: number;
  /** --eviction-hard-nodefs-available: below this much free space under stateDir, DiskPressure. */
  diskThreshold?: DiskThreshold;
  /** Node status is re-posted every this many heartbeats. */
  nodeStatusEvery?: number;
  backoff?: Partial<BackoffOptions>;
  /** Followed log streams served at once (--max-log-follows). */
  maxLogFollows?: number;
  /** --container-log-max-size in bytes (default 10Mi) and --container-log-max-files (default 5). */
  containerLogMaxSize?: number;
  containerLogMaxFiles?: number;
  clock?: Clock;
  log?: Logger;
  /** The Node's InternalIP; by default the listen IP when that is one address (see chooseNodeIP). */
  nodeIP?: string;
  capacity?: Record<string, string>;
  /** Deadline of each control-plane call. */
  apiTimeoutMs?: number;
  /** How often emptyDirs with a sizeLimit on disk are measured for eviction (default 10 s). */
  volumeStatsPeriodMs?: number;
  /** The local-path provisioner's directory on this node (--local-path-dir); undefined: off. */
  localPathDir?: string;
  /** How often container CPU and memory are read for NodeAgent.Stats (default 10 s). */
  statsIntervalMs?: number;
  /**
   * Sandbox and container start calls in flight at once across the node's pods
   * (--max-parallel-starts; default DEFAULT_MAX_PARALLEL_STARTS; 0: no bound).
   */
  maxParallelStarts?: number;
}

interface Recovered {
  record?: PodRecord;
  sandbox?: SandboxHandle;
  sandboxReady?: boolean;
  containers: { handle: ContainerHandle; info: ContainerInfo; labels: Record<string, string> }[];
}

export class NodeAgent {
  readonly events = new AgentEvents();
  readonly metrics: AgentMetrics;
  readonly api: AgentApi;
  readonly log: Logger;
  readonly runtime: Runtime;
  private readonly clock: Clock;
  private readonly workers = new Map<string, PodWorker>();
  /** Posts the status of every pod of this node (batched, retried). */
  readonly statusWriter: StatusWriter;
  private recovered = new Map<string, Recovered>();
  private heartbeat: Heartbeat | undefined;
  private source: PodSource | undefined;
  private nodeWatch: ListWatch<'Node'> | undefined;
  private cidrWait: PodCidrWait | undefined;
  private localPath: LocalPathProvisioner | undefined;
  private podsStarting = false;
  /** Host-gw routes and masquerade (undefined when off). */
  routes: RouteReconciler | undefined;
  /** Service proxy and cluster DNS (undefined when both are off or before the pod CIDR is known). */
  services: ServiceNetwork | undefined;
  private grpc: Server | undefined;
  readonly stats: StatsSampler;
  private metricsServer: MetricsServer | undefined;
  private logRotator: LogRotator | undefined;
  private ctx: WorkerContext | undefined;
  /** Bounds the start calls of all pods (undefined: no bound). */
  private readonly startSlots: Semaphore | undefined;
  private config: PodConfigSource | undefined;
  private id: NodeIdentity | undefined;
  private stopped = false;
  /** Port the NodeAgent gRPC service listens on (0 when not serving). */
  port = 0;
  metricsPort = 0;

  constructor(readonly opts: NodeAgentOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = (opts.log ?? pino({ level: 'info' })).child({ node: opts.nodeName });
    this.metrics = new AgentMetrics(opts.nodeName, () => ({
      podsByPhase: () => this.count((w) => w.status?.phase || 'Pending'),
      containersByState: () => {
        const out: Record<string, number> = {};
        for (const w of this.workers.values()) {
          for (const cs of w.status?.containerStatuses ?? []) {
            const s = cs.state?.running ? 'running' : cs.state?.terminated ? 'terminated' : 'waiting';
            out[s] = (out[s] ?? 0) + 1;
          }
        }
        return out;
      },
    }));
    this.runtime = this.metrics.timed(opts.runtime);
    const slots = opts.maxParallelStarts ?? DEFAULT_MAX_PARALLEL_STARTS;
    this.startSlots = slots > 0 ? new Semaphore(slots) : undefined;
    this.api = new AgentApi({ address: opts.controlPlane, token: opts.token, tls: opts.tls, timeoutMs: opts.apiTimeoutMs });
    this.statusWriter = new StatusWriter({ api: this.api, clock: this.clock, log: this.log, events: this.events });
    this.stats = new StatsSampler({
      nodeName: opts.nodeName,
      runtime: this.runtime,
      containers: () => this.runningContainers(),
      intervalMs: opts.statsIntervalMs ?? DEFAULT_STATS_INTERVAL_MS,
      log: this.log,
    });
  }

  /** The bound on start calls in flight (undefined: none). */
  get maxParallelStarts(): number | undefined {
    return this.startSlots?.limit;
  }

  /** Every running container of the node's pods, for the stats sampler. */
  private runningContainers(): PodContainer[] {
    const out: PodContainer[] = [];
    for (const w of this.workers.values()) {
      if (w.done) continue;
      const m = w.pod.metadata;
      for (const c of w.pod.spec?.containers ?? []) {
        const h = w.runningHandle(c.name);
        if (h) out.push({ namespace: m?.namespace ?? '', pod: m?.name ?? '', uid: m?.uid ?? '', container: c.name, containerId: h.containerId });
      }
    }
    return out;
  }

  private count(f: (w: PodWorker) => string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const w of this.workers.values()) out[f(w)] = (out[f(w)] ?? 0) + 1;
    return out;
  }

  get nodeName(): string {
    return this.opts.nodeName;
  }

  /** Pods this agent currently runs (or tears down), by namespace/name. */
  podKeys(): string[] {
    return [...this.workers.values()].map((w) => w.key);
  }

  async start(): Promise<void> {
    const o = this.opts;
    // Before anything is started: a /metrics no scraper could authenticate to is a setup error.
    const metricsAccess = o.metricsListen ? this.metricsAccess() : undefined;
    await mkdir(o.stateDir, { recursive: true });
    const version = await this.runtime.version();
    if (o.listen) {
      const servingTls = o.serving;
      if (!servingTls) throw new Error('the NodeAgent service serves mutual TLS only: give its certificate, key and client CA (--tls-cert-file, --tls-private-key-file, --client-ca-file)');
      const { server, port } = await serveNodeAgent(o.listen, {
        status: () => this.status(),
        stats: () => this.stats.latest(),
        containersOf: (ns, name) => this.workerByKey(`${ns}/${name}`)?.pod.spec?.containers.map((c) => c.name),
        initContainersOf: (ns, name) => this.workerByKey(`${ns}/${name}`)?.pod.spec?.initContainers.map((c) => c.name),
        logFile: (ns, name, c, prev) => this.workerByKey(`${ns}/${name}`)?.logFile(c, prev),
        exec: async (ns, name, c, cmd, timeoutSeconds) => {
          const h = this.workerByKey(`${ns}/${name}`)?.runningHandle(c);
          return h ? this.runtime.exec(h, cmd, timeoutSeconds) : undefined;
        },
        forwardHost: (ns, name) => this.workerByKey(`${ns}/${name}`)?.forwardHost(),
        execStream: async (ns, name, c, cmd, opts) => {
          const rt = this.runtime;
          if (!canStreamExec(rt)) throw errors.badRequest(`the ${rt.name} runtime of node ${this.opts.nodeName} cannot run interactive exec (-i/-t); run the command without them`);
          const h = this.workerByKey(`${ns}/${name}`)?.runningHandle(c);
          return h ? rt.execStream(h, cmd, opts) : undefined;
        },
      }, { maxLogFollows: o.maxLogFollows, tls: servingTls });
      this.grpc = server;
      this.port = port;
    }
    if (o.metricsListen && metricsAccess) await this.serveMetrics(o.metricsListen, metricsAccess);
    this.logRotator = new LogRotator({
      runtime: this.runtime, log: this.log,
      maxSize: o.containerLogMaxSize ?? DEFAULT_LOG_MAX_SIZE, maxFiles: o.containerLogMaxFiles ?? DEFAULT_LOG_MAX_FILES,
    });
    this.logRotator.start();
    const nodeIP = chooseNodeIP(o.nodeIP, o.listen);
    const bound = listenIP(o.listen);
    if (bound && bound !== nodeIP) {
      this.log.warn({ nodeIP, listen: o.listen }, 'the control plane dials the node IP for logs, but the agent listens on another address');
    }
    this.id = {
      nodeName: o.nodeName,
      podCIDR: o.podCIDR ?? '',
      labels: o.nodeLabels ?? {},
      nodeIP,
      agentPort: this.port,
      runtimeVersion: `${version.runtimeName}://${version.runtimeVersion}`,
      capacity: o.capacity,
    };
    this.config = new PodConfigSource({
      api: this.api, clock: this.clock, log: this.log, nodeName: o.nodeName, stateDir: o.stateDir,
      onChange: (ref) => {
        const k = refKey(ref);
        for (const w of this.workers.values()) if (podRefs(w.pod).some((r) => refKey(r) === k)) w.configChanged();
      },
    });
    this.ctx = {
      config: this.config,
      api: this.api,
      runtime: this.runtime,
      clock: this.clock,
      log: this.log,
      stateDir: o.stateDir,
      hostIP: nodeIP,
      backoff: { ...DEFAULT_BACKOFF, ...o.backoff },
      metrics: this.metrics,
      events: this.events,
      status: this.statusWriter,
      startSlots: this.startSlots,
      volumeStatsPeriodMs: o.volumeStatsPeriodMs,
      onTornDown: (w) => this.untrack(w),
      claimPath: (pod, src) => claimHostPath(this.api, o.nodeName, pod, src),
      podDns: (pod) => this.services?.podDns(pod),
      awaitEndpointGone: async (podIP, timeoutMs) => {
        const services = this.services;
        if (!services?.proxier) return;
        const started = this.clock.now();
        const how = await services.awaitEndpointGone(podIP, timeoutMs, (ms) => sleep(this.clock, ms)).catch((e: unknown) => {
          this.log.warn({ podIP, err: e instanceof Error ? e.message : String(e) }, 'could not check the proxies before stopping a pod');
          return 'error';
        });
        this.log.info({ podIP, outcome: how, waitedMs: this.clock.now() - started }, 'endpoint drained before stop');
      },
    };
    await this.recover();
    if ((o.statsIntervalMs ?? DEFAULT_STATS_INTERVAL_MS) > 0) this.stats.start();
    const hbMs = o.heartbeatMs ?? 5000;
    const threshold = o.diskThreshold ?? parseDiskThreshold(DEFAULT_NODEFS_AVAILABLE);
    this.heartbeat = new Heartbeat(this.api, this.id, this.clock, this.log, {
      periodMs: hbMs,
      statusEvery: o.nodeStatusEvery ?? 6,
      // Two periods (at least 1 s), never longer than any other call: a renewal that cannot
      // commit gives way to a fresh one well within the node grace period.
      callTimeoutMs: Math.min(o.apiTimeoutMs ?? DEFAULT_API_TIMEOUT_MS, Math.max(1000, 2 * hbMs)),
      health: async () => assess(await probeHealth(this.runtime, o.stateDir, this.id?.podCIDR ?? '', threshold)),
    });
    try {
      await this.heartbeat.register();
    } catch (e) {
      // Keep going: the heartbeat registers once the control plane answers.
      this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'cannot register yet; will retry');
    }
    this.heartbeat.start();
    if (o.localPathDir) {
      this.localPath = new LocalPathProvisioner({
        api: this.api, nodeName: o.nodeName, dir: o.localPathDir, clock: this.clock, log: this.log.child({ component: 'local-path' }),
      });
      await this.localPath.start();
    }
    this.startNetwork();
    if (this.id.podCIDR) await this.usePodCIDR(this.id.podCIDR, false);
    this.log.info({ runtime: this.runtime.name, port: this.port, stateDir: o.stateDir }, 'node agent started');
  }

  // Routes (and masquerade) follow every Node; an agent waiting for its pod CIDR watches its own.
  private startNetwork(): void {
    const o = this.opts;
    if (o.routes ?? !!o.clusterCIDR) {
      const exec = o.netExec ?? commandExec();
      this.routes = new RouteReconciler({
        nodeName: o.nodeName, table: o.routeTable ?? new IpRouteTable(exec), exec, clusterCIDR: o.clusterCIDR,
        natTable: o.natTable, clock: this.clock, log: this.log.child({ component: 'routes' }),
      });
      if (!o.clusterCIDR) this.log.warn('routes on without --cluster-cidr: pod traffic leaving the cluster is not masqueraded');
    }
    if (!this.id?.podCIDR) {
      this.cidrWait = new PodCidrWait(this.api, o.nodeName, this.clock, this.log, (cidr) => {
        this.usePodCIDR(cidr, true).catch((e: unknown) => this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'cannot start pods'));
      });
      this.cidrWait.start();
    }
    if (!this.routes && !this.cidrWait) return;
    const fieldSelector = this.routes ? '' : `metadata.name=${o.nodeName}`;
    this.nodeWatch = new ListWatch(this.api, { kind: 'Node', what: 'node', fieldSelector }, this.clock, this.log, {
      onList: (nodes) => {
        this.routes?.setNodes(nodes);
        for (const n of nodes) this.cidrWait?.observe(n);
      },
      onUpsert: (n) => {
        this.routes?.upsert(n);
        this.cidrWait?.observe(n);
      },
      onDelete: (n) => this.routes?.remove(n),
    });
    this.nodeWatch.start();
  }

  /** The node's pod range is known: tell the runtime (CNI config), then run pods. */
  private async usePodCIDR(cidr: string, wasNotReady: boolean): Promise<void> {
    if (this.stopped || this.podsStarting) return;
    this.podsStarting = true;
    this.id!.podCIDR = cidr;
    try {
      await this.runtime.updatePodCIDR(cidr);
    } catch (e) {
      // Static stability: pods whose network is already set up keep working; new sandboxes
      // report the runtime's own error.
      this.log.warn({ err: e instanceof Error ? e.message : String(e), podCIDR: cidr }, 'runtime did not take the pod CIDR');
    }
    if (this.stopped) return;
    await this.startServices(cidr);
    if (this.stopped) return;
    // NotReady until now (no pod network): tell the scheduler at once.
    if (wasNotReady) this.heartbeat?.refreshStatus().catch((e: unknown) => this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'node status not posted; next heartbeat will'));
    this.source = new PodSource(this.api, this.opts.nodeName, this.clock, this.log, {
      onList: (pods) => this.onList(pods),
      onUpsert: (pod) => this.onUpsert(pod),
      onDelete: (pod) => this.onDelete(pod),
    });
    this.source.start();
  }

  /** Services on this node: the proxy's rules and the DNS server on the pod network's gateway. */
  private async startServices(podCIDR: string): Promise<void> {
    const o = this.opts;
    if (!o.serviceProxy && !o.clusterDNS) return;
    const gateway = formatIPv4(mustParseCidr(podCIDR).base + 1);
    this.services = new ServiceNetwork({
      api: this.api, clock: this.clock, log: this.log, registry: this.metrics.registry,
      proxy: o.serviceProxy && { table: o.serviceProxy.table ?? 'skiff-proxy', serviceCIDR: o.serviceProxy.serviceCIDR, clusterCIDR: o.clusterCIDR || undefined },
      dns: o.clusterDNS && { address: o.clusterDNS.address ?? gateway, port: o.clusterDNS.port, domain: o.clusterDNS.domain },
    });
    this.services.proxier?.onSynced((r) => this.publishProgrammed(r.generation));
    await this.services.start();
  }

  private programmed = { published: 0, wanted: 0, busy: false };

  /** Publishes in the Node what this node's proxy has programmed (one write at a time, latest wins). */
  private publishProgrammed(revision: number): void {
    const p = this.programmed;
    p.wanted = Math.max(p.wanted, revision);
    if (p.busy || p.wanted <= p.published || this.stopped) return;
    p.busy = true;
    const rev = p.wanted;
    this.api.mergePatch('Node', '', this.opts.nodeName, { metadata: { annotations: { [PROGRAMMED_REVISION_ANNOTATION]: String(rev) } } }).then(
      () => {
        p.published = Math.max(p.published, rev);
        p.busy = false;
        // Syncs that finished meanwhile are published next.
        if (p.wanted > p.published) this.publishProgrammed(p.wanted);
      },
      (e: unknown) => {
        // Not retried in a loop: the next sync publishes again.
        p.busy = false;
        this.log.warn({ err: e instanceof Error ? e.message : String(e), revision: rev }, 'could not publish the proxy\'s programmed revision; the next sync will');
      },
    );
  }

  /** Stops the agent; containers keep running (a new agent on the same state re-attaches). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.heartbeat?.stop();
    await this.logRotator?.stop();
    await this.stats.stop();
    this.cidrWait?.stop();
    await this.localPath?.stop();
    await this.nodeWatch?.stop();
    await this.routes?.stop();
    await this.services?.stop(this.opts.cleanup ?? false);
    await this.source?.stop();
    await this.config?.stop();
    for (const w of this.workers.values()) w.close();
    await Promise.all([...this.workers.values()].map((w) => w.settled()));
    await this.statusWriter.stop();
    if (this.grpc) this.grpc.forceShutdown();
    this.metricsServer?.closeAllConnections();
    await new Promise<void>((r) => (this.metricsServer ? this.metricsServer.close(() => r()) : r()));
    this.api.close();
  }

  /** Beats now (tests and benchmarks that drive time by hand). */
  async beat(): Promise<void> {
    await this.heartbeat?.beat();
  }

  /** Waits until every pod worker is idle and the statuses they computed are posted (or failed). */
  async settled(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.settled()));
    await this.statusWriter.idle();
  }

  get controlPlaneReachable(): boolean {
    return (this.heartbeat?.failures ?? 1) === 0 && (this.source?.failures ?? 1) === 0;
  }

  async status(): Promise<AgentStatus> {
    const v = await this.runtime.version();
    let containers = 0;
    for (const w of this.workers.values()) containers += w.containerCount;
    return { nodeName: this.nodeName, runtime: v.runtimeName, runtimeVersion: v.runtimeVersion, pods: this.workers.size, containers };
  }

  private workerByKey(key: string): PodWorker | undefined {
    for (const w of this.workers.values()) if (w.key === key && !w.done) return w;
    return undefined;
  }

  // What survives an agent restart: the per-pod records and what the runtime still has.
  private async recover(): Promise<void> {
    const { records, bad } = await loadRecords(this.opts.stateDir);
    for (const uid of bad) this.log.warn({ uid }, 'unreadable pod record ignored');
    const found = await this.runtime.discover();
    const rec = (uid: string): Recovered => {
      let r = this.recovered.get(uid);
      if (!r) {
        r = { containers: [] };
        this.recovered.set(uid, r);
      }
      return r;
    };
    for (const r of records) rec(r.uid).record = r;
    for (const s of found.sandboxes) {
      const uid = s.labels[LABEL_POD_UID] || s.handle.podUid;
      if (!uid) continue;
      const r = rec(uid);
      // Prefer a ready sandbox when an earlier attempt left a dead one behind.
      if (!r.sandbox || (s.ready && !r.sandboxReady)) {
        r.sandbox = s.handle;
        r.sandboxReady = s.ready;
      }
    }
    for (const c of found.containers) {
      const uid = c.labels[LABEL_POD_UID];
      if (uid) rec(uid).containers.push(c);
    }
    if (this.recovered.size) this.log.info({ pods: this.recovered.size }, 'found pods from an earlier run');
  }

  private newWorker(pod: Pod): PodWorker {
    const uid = pod.metadata!.uid;
    const r = this.recovered.get(uid);
    this.recovered.delete(uid);
    let record = r?.record;
    if (r?.sandbox && !r.sandboxReady) {
      // Its network is gone (node reboot, runtime restart): remove it and start the pod afresh.
      this.log.info({ pod: `${pod.metadata!.namespace}/${pod.metadata!.name}` }, 'sandbox from an earlier run is not ready; re-creating it');
      const dead = r.sandbox;
      void this.runtime.stopSandbox(dead).then(() => this.runtime.destroySandbox(dead)).catch(() => undefined);
      r.sandbox = undefined;
    }
    if (r?.sandbox) {
      const paths = podPaths(this.opts.stateDir, pod.metadata!);
      record = record ?? { version: 1, uid, namespace: pod.metadata!.namespace, name: pod.metadata!.name, startTime: '', containers: {} };
      if (record.sandbox?.sandboxId !== r.sandbox.sandboxId) {
        record.sandbox = r.sandbox;
        record.sandboxConfig = sandboxConfig(pod, paths);
      }
    } else if (record) {
      // The runtime no longer has the sandbox (node rebooted?): start over, keeping restart counts.
      record = { ...record, sandbox: undefined, sandboxConfig: undefined };
      for (const c of Object.values(record.containers)) c.handle = undefined;
    }
    const w = new PodWorker(pod, this.ctx!, record);
    if (r?.sandbox) this.adoptContainers(w, record!, r);
    return w;
  }

  private adoptContainers(w: PodWorker, record: PodRecord, r: Recovered): void {
    const inSandbox = r.containers.filter((c) => c.handle.sandboxId === r.sandbox!.sandboxId);
    const names = new Set(inSandbox.map((c) => c.labels[LABEL_CONTAINER_NAME] || c.handle.name));
    for (const name of names) {
      const mine = inSandbox.filter((c) => (c.labels[LABEL_CONTAINER_NAME] || c.handle.name) === name);
      const known = record.containers[name]?.handle?.containerId;
      mine.sort((a, b) => b.handle.attempt - a.handle.attempt);
      const pick = mine.find((c) => c.handle.containerId === known) ?? mine[0]!;
      w.adopt(pick.handle, pick.info);
      // Keep the newest earlier attempt (for `logs --previous`); older exited ones go.
      const rest = mine.filter((c) => c !== pick);
      if (rest[0]) w.adoptPrevious(rest[0].handle);
      for (const other of rest.slice(1)) {
        if (other.info.state === 'exited') this.runtime.destroyContainer(other.handle).catch(() => undefined);
      }
    }
  }

  private onList(pods: Pod[]): void {
    const seen = new Set<string>();
    for (const p of pods) {
      seen.add(p.metadata!.uid);
      this.onUpsert(p);
    }
    for (const w of this.workers.values()) if (!seen.has(w.uid)) w.markGone();
    // Left from an earlier run and no longer bound here: tear down.
    for (const [uid, r] of this.recovered) {
      this.recovered.delete(uid);
      const labels = r.containers[0]?.labels ?? {};
      const pod = Pod.fromPartial({
        metadata: {
          uid,
          namespace: r.record?.namespace ?? labels[LABEL_POD_NAMESPACE] ?? '',
          name: r.record?.name ?? labels[LABEL_POD_NAME] ?? uid,
        },
        spec: { containers: [] },
      });
      const record: PodRecord = r.record ?? { version: 1, uid, namespace: pod.metadata!.namespace, name: pod.metadata!.name, startTime: '', containers: {} };
      if (r.sandbox) record.sandbox = r.sandbox;
      this.log.info({ pod: `${pod.metadata!.namespace}/${pod.metadata!.name}`, uid }, 'tearing down pod no longer bound to this node');
      const w = new PodWorker(pod, this.ctx!, record);
      for (const c of r.containers) w.adopt(c.handle, c.info);
      this.track(w);
      w.markGone();
    }
  }

  private track(w: PodWorker): void {
    this.workers.set(w.uid, w);
  }

  private untrack(w: PodWorker): void {
    if (this.workers.get(w.uid) === w) this.workers.delete(w.uid);
    this.config?.release(w.uid).catch((e: unknown) => this.log.warn({ pod: w.key, err: e instanceof Error ? e.message : String(e) }, 'removing the pod\'s secret files failed'));
  }

  private onUpsert(pod: Pod): void {
    if (this.stopped) return;
    const uid = pod.metadata!.uid;
    const w = this.workers.get(uid);
    if (w) {
      if (!w.done) w.update(pod);
      return;
    }
    const nw = this.newWorker(pod);
    this.track(nw);
    this.events.emit('podSeen', { pod: nw.key, uid });
    nw.kick();
  }

  private onDelete(pod: Pod): void {
    const m = pod.metadata;
    const w = (m?.uid ? this.workers.get(m.uid) : undefined) ?? this.workerByKey(`${m?.namespace}/${m?.name}`);
    w?.markGone();
  }

  private metricsTls(): MetricsTls | undefined {
    return this.opts.metricsTls ?? this.opts.serving;
  }

  private metricsAccess(): MetricsAccess {
    if (this.opts.metricsInsecure) return { insecure: true };
    // The agent's token is one the control plane accepts: whoever scrapes the control plane
    // with it may scrape the agent too. Certificates: the control plane's own client identity
    // and cluster admins; a node's certificate (same CA) names a node, not a scraper.
    const token = this.opts.metricsToken ?? this.opts.token;
    const clientCa = this.metricsTls()?.clientCa;
    if (!token && !clientCa) {
      throw new Error('--metrics-listen has no way to authenticate scrapers: give --tls-cert-file, --tls-private-key-file and --client-ca-file (scrapers present a client certificate of that CA), --token/--token-file (scrapers send it), or --metrics-insecure');
    }
    return {
      insecure: false,
      ...(token ? { accepts: singleToken(token) } : {}),
      ...(clientCa ? { acceptsUser: (user: string, groups: readonly string[]) => user === KUBELET_CLIENT_USER || groups.includes(MASTERS_GROUP) } : {}),
    };
  }

  private async serveMetrics(listen: string, access: MetricsAccess): Promise<void> {
    const i = listen.lastIndexOf(':');
    const host = i > 0 ? listen.slice(0, i) : '127.0.0.1';
    const port = Number(i >= 0 ? listen.slice(i + 1) : listen);
    const tls = this.metricsTls();
    if (!tls) this.log.warn({ listen }, '/metrics is served over plain HTTP: the agent has no serving certificate (--tls-cert-file, --tls-private-key-file)');
    const srv = createMetricsServer(tls, (req, res) => {
      if (req.url !== '/metrics') {
        res.statusCode = 404;
        res.end('not found; try /metrics\n');
        return;
      }
      if (!authorizeMetrics(req, res, access)) return;
      this.metrics.registry.metrics().then(
        (body) => {
          res.setHeader('Content-Type', this.metrics.registry.contentType);
          res.end(body);
        },
        (e: unknown) => {
          res.statusCode = 500;
          res.end(String(e));
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => resolve());
    });
    const addr = srv.address();
    this.metricsPort = typeof addr === 'object' && addr ? addr.port : 0;
    this.metricsServer = srv;
  }
}
