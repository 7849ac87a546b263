// The node's share of Services: watches Services and EndpointSlices (all namespaces, from the
// server's cache) and hands each new snapshot to the nftables proxy and the cluster DNS server,
// either of which can be off. Pods get the DNS server through their sandbox's resolver.
//
// The DNS server listens on the pod network's gateway address, which the CNI bridge plugin
// only assigns when the first pod is set up, so binding is retried until the address exists.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock, Timer } from '../../proto/api/clock.js';
import type { Pod, Service } from '../../proto/gen/skiff/v1/core.js';
import type { EndpointSlice } from '../../proto/gen/skiff/v1/discovery.js';
import type { AgentApi } from '../api-client.js';
import { ListWatch } from '../list-watch.js';
import type { SandboxDns } from '../runtime/runtime.js';
import { ClusterDnsServer, podDnsConfig, readResolvConf, type ResolvConf } from './dns/index.js';
import { nftRunner, Proxier } from './proxy/index.js';
import { serviceSnapshot } from './service-snapshot.js';

export interface ServiceNetworkOptions {
  api: AgentApi;
  clock: Clock;
  log: Logger;
  registry?: Registry;
  /** The nftables proxy; undefined: off. */
  proxy?: { table: string; serviceCIDR: string; clusterCIDR?: string; nftPrefix?: string[] };
  /** The cluster DNS server; undefined: off (pods then use the node's resolver). */
  dns?: { address: string; port?: number; domain: string; resolvConf?: string };
}

const DNS_BIND_RETRY_MS = 1000;
/** Each node's proxy publishes the newest Service/EndpointSlice revision it has programmed here. */
export const PROGRAMMED_REVISION_ANNOTATION = 'proxy.skiff.io/programmed-revision';
const POLL_MS = 50;

const rvOf = (x: { metadata?: { resourceVersion: string } }): number => Number(x.metadata?.resourceVersion) || 0;

export class ServiceNetwork {
  private readonly services = new Map<string, Service>();
  private readonly slices = new Map<string, EndpointSlice>();
  private readonly watches: { stop(): Promise<void> }[] = [];
  readonly proxier: Proxier | undefined;
  readonly dns: ClusterDnsServer | undefined;
  private readonly host: ResolvConf | undefined;
  private dnsTimer: Timer | undefined;
  /** The newest resourceVersion among the Services and EndpointSlices seen: the proxy's generation. */
  private revision = 0;
  private stopped = false;

  constructor(private readonly opts: ServiceNetworkOptions) {
    const log = opts.log;
    if (opts.proxy) {
      this.proxier = new Proxier({
        table: opts.proxy.table, serviceCIDR: opts.proxy.serviceCIDR, clusterCIDR: opts.proxy.clusterCIDR,
        log: log.child({ component: 'proxy' }), clock: opts.clock, registry: opts.registry,
        runner: opts.proxy.nftPrefix ? nftRunner({ prefix: opts.proxy.nftPrefix }) : undefined,
      });
    }
    if (opts.dns) {
      this.host = readResolvConf(opts.dns.resolvConf);
      this.dns = new ClusterDnsServer({ listenAddress: opts.dns.address, port: opts.dns.port, domain: opts.dns.domain, log, registry: opts.registry });
    }
  }

  async start(): Promise<void> {
    await this.proxier?.start();
    if (this.dns) this.bindDns();
    const o = this.opts;
    const keyOf = (x: Service | EndpointSlice): string => `${x.metadata?.namespace}/${x.metadata?.name}`;
    const track = <T extends Service | EndpointSlice>(into: Map<string, T>) => ({
      onList: (items: T[]) => {
        into.clear();
        for (const x of items) into.set(keyOf(x), x);
        for (const x of items) this.revision = Math.max(this.revision, rvOf(x));
        this.changed();
      },
      onUpsert: (x: T) => {
        into.set(keyOf(x), x);
        this.revision = Math.max(this.revision, rvOf(x));
        this.changed();
      },
      onDelete: (x: T) => {
        into.delete(keyOf(x));
        this.revision = Math.max(this.revision, rvOf(x));
        this.changed();
      },
    });
    const svc = new ListWatch(o.api, { kind: 'Service', what: 'service', fieldSelector: '' }, o.clock, o.log, track(this.services));
    const eps = new ListWatch(o.api, { kind: 'EndpointSlice', what: 'endpointslice', fieldSelector: '' }, o.clock, o.log, track(this.slices));
    this.watches.push(svc, eps);
    svc.start();
    eps.start();
  }

  /** Stops watching and serving; with cleanup the proxy's table goes too (`--cleanup`). */
  async stop(cleanup = false): Promise<void> {
    this.stopped = true;
    this.dnsTimer?.cancel();
    await Promise.all(this.watches.map((w) => w.stop()));
    if (cleanup) await this.proxier?.cleanup();
    else await this.proxier?.stop();
    await this.dns?.stop();
  }

  /** The pod's resolver: the cluster DNS per its dnsPolicy; undefined when DNS is off. */
  podDns(pod: Pod): SandboxDns | undefined {
    const d = this.opts.dns;
    if (!d || !this.host) return undefined;
    const spec = pod.spec;
    return podDnsConfig(
      {
        dnsPolicy: spec?.dnsPolicy ?? '', hostNetwork: spec?.hostNetwork ?? false, namespace: pod.metadata?.namespace ?? 'default',
        dnsConfig: spec?.dnsConfig ? {
          nameservers: spec.dnsConfig.nameservers, searches: spec.dnsConfig.searches,
          options: spec.dnsConfig.options.map((x) => ({ name: x.name, value: x.value })),
        } : undefined,
      },
      { clusterDNS: d.address, clusterDomain: d.domain, host: this.host },
    );
  }

  private changed(): void {
    const snap = serviceSnapshot(this.services.values(), this.slices.values());
    this.proxier?.update(snap, this.revision);
    this.dns?.update(snap);
  }

  /**
   * Waits until no node's proxy still sends new connections to podIP: the EndpointSlices that
   * list it show it not ready (or terminating), and every Ready node whose proxy publishes its
   * programmed revision has programmed that slice version. Bounded by timeoutMs (a node that
   * cannot answer must not hold a deletion up). Resolves with how it ended.
   */
  async awaitEndpointGone(podIP: string, timeoutMs: number, sleep: (ms: number) => Promise<void>): Promise<'unlisted' | 'programmed' | 'timeout'> {
    const end = this.opts.clock.now() + timeoutMs;
    let target = 0;
    for (;;) {
      const listing = [...this.slices.values()].filter((s) => s.endpoints.some((e) => e.addresses[0] === podIP));
      if (listing.length === 0) return 'unlisted';
      const out = listing.every((s) => s.endpoints.every((e) => e.addresses[0] !== podIP || e.conditions?.terminating === true || e.conditions?.ready === false));
      if (out) {
        target = Math.max(...listing.map(rvOf));
        break;
      }
      if (this.opts.clock.now() >= end) return 'timeout';
      await sleep(POLL_MS);
    }
    for (;;) {
      const { items } = await this.opts.api.list('Node', { resourceVersion: '0' });
      const behind = items.filter((n) => {
        const ready = n.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
        const programmed = n.metadata?.annotations[PROGRAMMED_REVISION_ANNOTATION];
        return ready && programmed !== undefined && Number(programmed) < target;
      });
      if (behind.length === 0) return 'programmed';
      if (this.opts.clock.now() >= end) return 'timeout';
      await sleep(POLL_MS * 2);
    }
  }

  private bindDns(): void {
    const dns = this.dns;
    if (!dns || this.stopped) return;
    dns.start().then(
      () => {
        this.opts.log.info({ address: this.opts.dns?.address, port: dns.port }, 'cluster DNS serving');
      },
      (e: unknown) => {
        const code = (e as NodeJS.ErrnoException).code;
        // The gateway address appears with the first pod's network; anything else is worth a warning.
        if (code !== 'EADDRNOTAVAIL') this.opts.log.warn({ err: String(e) }, 'cluster DNS could not listen; retrying');
        this.dnsTimer = this.opts.clock.setTimeout(() => this.bindDns(), DNS_BIND_RETRY_MS);
      },
    );
  }
}
