// The controller manager: every control-plane process campaigns; the one that leads runs the
// controllers (ReplicaSet, Deployment, EndpointSlice, scheduler, node lifecycle, garbage
// collector, volume binding, HorizontalPodAutoscaler, and node IPAM when a cluster CIDR is given) against
// the process's shared informers, and stops them the moment it stops leading. Each term gets
// fresh controller instances, so nothing learned in an earlier term (expectations, observed
// lease times) outlives the leadership it was learned under.
import type { Etcd3 } from 'etcd3';
import { Gauge } from 'prom-client';
import type { SharedInformers } from '../informers.js';
import type { Fence } from '../storage/fence.js';
import type { Store } from '../storage/store.js';
import { StoreControllerClient } from './client.js';
import { DeploymentController } from './deployment/controller.js';
import { EndpointSliceController } from './endpointslice/controller.js';
import { ClientEventRecorder } from './events.js';
import { GarbageCollector } from './gc/collector.js';
import { HpaController } from './hpa/controller.js';
import type { PodMetrics } from '../../proto/gen/skiff/v1/metrics.js';
import { ResourceMetrics } from '../resource-metrics/provider.js';
import { LeaderElector } from './leader/elector.js';
import { NodeIpamController } from './nodeipam/controller.js';
import { ServiceLBController } from './servicelb/controller.js';
import { NodeLifecycleController } from './nodelifecycle/controller.js';
import type { DisruptionConfig } from './nodelifecycle/disruption.js';
import { ReplicaSetController } from './replicaset/controller.js';
import { rootLogger } from './runtime/log.js';
import { controllerRegistry } from './runtime/metrics.js';
import { SchedulerController } from './scheduler/controller.js';
import { VolumeBindingController } from './volumebinding/controller.js';
import type { ClientTls } from '../../proto/api/tls-client.js';
import type { CertAndKey } from '../../proto/api/pki/index.js';
import { MASTERS_GROUP } from '../authz/authorizer.js';
import { rbacAuthorize } from '../authz/rbac.js';
import { InformerRbacSnapshot } from '../authz/snapshot.js';
import { CertificateControllers } from './certificates/controllers.js';
import { DEFAULT_SIGNING_DURATION_MS } from './certificates/sign.js';

export const ELECTION_NAME = 'controller-manager';

export interface ControllerManagerOptions {
  /** How node agents are reached for resource metrics (the autoscaler's). */
  kubelet?: ClientTls;
  store: Store;
  informers: SharedInformers;
  etcd: Etcd3;
  /** This process, e.g. "hostname-pid"; shown as the leader by Version. */
  identity: string;
  leaseTtlSeconds?: number;
  nodeGracePeriodSeconds?: number;
  podEvictionDelaySeconds?: number;
  /** Node eviction rate limits and full-disruption mode. */
  disruption?: Partial<DisruptionConfig>;
  /** Node pod ranges are allocated from this (kube-controller-manager --cluster-cidr); off when empty. */
  clusterCIDR?: string;
  /** Prefix length of each node's range (--node-cidr-mask-size, default 24). */
  nodeCIDRMaskSize?: number;
  log?: (msg: string, fields?: object) => void;
  /** Where the HPA controller reads pod usage (default: the node agents, through this process's informers). */
  resourceMetrics?: { podMetrics(): Promise<PodMetrics[]> };
  /** --horizontal-pod-autoscaler-sync-period (15 s). */
  hpaSyncPeriodMs?: number;
  /** --cluster-signing-cert-file/--cluster-signing-key-file: the CA that signs approved CSRs; no signer without it. */
  clusterSigningCa?: CertAndKey;
  /** --cluster-signing-duration (8760 h). */
  clusterSigningDurationMs?: number;
}

export interface ControllerManager {
  stop(): Promise<void>;
  isLeader(): boolean;
  /** Identity of the leading process as this one last saw it ('' when unknown); for Version. */
  leader(): string;
}

interface Runnable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

const leaderGauge = new Gauge({
  name: 'skiff_controller_manager_leader',
  help: '1 while this process leads and runs the controllers, else 0.',
  registers: [controllerRegistry],
});

export function startControllerManager(opts: ControllerManagerOptions): Promise<ControllerManager> {
  const log = opts.log ?? ((msg: string, fields?: object) => rootLogger.info(fields ?? {}, msg));
  let running: Runnable[] = [];
  let term = 0;

  const build = (fence: Fence): Runnable[] => {
    // Every write of this term is fenced: it fails once another process leads.
    const store = opts.store.fenced(fence);
    const client = new StoreControllerClient(store, Date.now, (kind, namespace, name) =>
      opts.informers.peek(kind)?.get(namespace ? `${namespace}/${name}` : name));
    const recorder = (component: string): ClientEventRecorder =>
      new ClientEventRecorder(client, { component, host: opts.identity });
    const { informers } = opts;
    const metrics = opts.resourceMetrics ?? new ResourceMetrics({
      informers,
      kubelet: opts.kubelet,
      onError: (node, err) => log('cannot read resource usage from the node agent', { node, err: err instanceof Error ? err.message : String(err) }),
    });
    const ipam = opts.clusterCIDR
      ? [new NodeIpamController({
        store, informers, client, recorder: recorder('node-ipam-controller'),
        clusterCIDR: opts.clusterCIDR, nodeCIDRMaskSize: opts.nodeCIDRMaskSize ?? 24,
      })]
      : [];
    const rbac = new InformerRbacSnapshot(informers);
    const certificates = new CertificateControllers({
      informers, client,
      // The approver's SubjectAccessReview, decided as the API server's RBAC would.
      may: (who, a) => who.groups.includes(MASTERS_GROUP) || rbacAuthorize(rbac, who, a).allowed,
      signingCa: opts.clusterSigningCa,
      signingDurationMs: opts.clusterSigningDurationMs ?? DEFAULT_SIGNING_DURATION_MS,
    });
    return [
      ...ipam,
      { start: () => rbac.start().then(() => certificates.start()), stop: () => certificates.stop() },
      new GarbageCollector({ store, client, informers }),
      new NodeLifecycleController({
        store,
        client,
        informers,
        recorder: recorder('node-controller'),
        gracePeriodSeconds: opts.nodeGracePeriodSeconds,
        podEvictionDelaySeconds: opts.podEvictionDelaySeconds,
        disruption: opts.disruption,
      }),
      new SchedulerController({ store, informers, recorder: recorder('default-scheduler') }),
      new ReplicaSetController({ informers, client, recorder: recorder('replicaset-controller') }),
      new DeploymentController({ informers, client, recorder: recorder('deployment-controller') }),
      new EndpointSliceController({ informers, client }),
      new VolumeBindingController({ informers, client, recorder: recorder('persistentvolume-controller') }),
      new ServiceLBController({ informers, client }),
      new HpaController({
        informers, client, recorder: recorder('horizontal-pod-autoscaler'), metrics, syncPeriodMs: opts.hpaSyncPeriodMs,
      }),
    ];
  };

  // Starting waits for informers to sync, which never happens while etcd is unreachable, so
  // it runs beside the elector's transitions instead of blocking them: losing the lead must
  // stop what already runs at once. A start that finishes after its term ended stops again.
  const startTerm = async (myTerm: number, fence: Fence): Promise<void> => {
    for (const c of build(fence)) {
      if (myTerm !== term) return;
      await c.start();
      if (myTerm !== term) {
        await c.stop();
        return;
      }
      running.push(c);
    }
  };

  const startAll = (fence: Fence): void => {
    const myTerm = ++term;
    leaderGauge.set(1);
    log('controller manager: leading; starting controllers', { identity: opts.identity });
    startTerm(myTerm, fence).catch((e: unknown) =>
      log('controller manager: starting controllers failed', { err: e instanceof Error ? e.message : String(e) }),
    );
  };

  const stopAll = async (): Promise<void> => {
    term++;
    leaderGauge.set(0);
    const stopping = running;
    running = [];
    await Promise.all(stopping.map((c) => c.stop()));
    if (stopping.length) log('controller manager: stopped controllers', { identity: opts.identity, count: stopping.length });
  };

  const elector = new LeaderElector({
    client: opts.etcd,
    name: ELECTION_NAME,
    identity: opts.identity,
    ttlSeconds: opts.leaseTtlSeconds,
    prefix: opts.store.keys.prefix,
    onStartedLeading: startAll,
    onStoppedLeading: stopAll,
    log,
  });
  elector.start();
  return Promise.resolve({
    isLeader: () => elector.isLeader(),
    leader: () => elector.leader(),
    stop: () => elector.stop(),
  });
}
