// Where the controllers join the control-plane program: every process campaigns through the
// controller manager (etcd lease election); only the leader runs the controllers.
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { startControllerManager } from './controllers/manager.js';
import type { DisruptionConfig } from './controllers/nodelifecycle/disruption.js';
import type { SharedInformers } from './informers.js';
import type { Store } from './storage/store.js';
import type { ClientTls } from '../proto/api/tls-client.js';
import type { CertAndKey } from '../proto/api/pki/index.js';

export interface ControllerHookOptions {
  store: Store;
  informers: SharedInformers;
  etcd: Etcd3;
  identity: string;
  log: Logger;
  leaseTtlSeconds: number;
  nodeGracePeriodSeconds: number;
  podEvictionDelaySeconds: number;
  disruption?: DisruptionConfig;
  /** Allocate node pod CIDRs from this range ('' = off). */
  clusterCIDR: string;
  nodeCIDRMaskSize: number;
  hpaSyncPeriodSeconds?: number;
  /** Serve the API only (no controllers) — e.g. extra API replicas behind a leader elsewhere. */
  disabled: boolean;
  /** How node agents are reached (the autoscaler's resource metrics). */
  kubelet?: ClientTls;
  /** The CA that signs approved CSRs (--cluster-signing-cert-file/--cluster-signing-key-file). */
  clusterSigningCa?: CertAndKey;
  clusterSigningDurationMs?: number;
}

export interface RunningControllers {
  /** Identity of the process running the controllers ('' when unknown). */
  leader(): string;
  stop(): Promise<void>;
}

export async function startControllers(opts: ControllerHookOptions): Promise<RunningControllers> {
  if (opts.disabled) {
    opts.log.info('controllers disabled (--controllers=false): serving the API only');
    return { leader: () => '', stop: () => Promise.resolve() };
  }
  const manager = await startControllerManager({
    store: opts.store,
    informers: opts.informers,
    etcd: opts.etcd,
    identity: opts.identity,
    leaseTtlSeconds: opts.leaseTtlSeconds,
    nodeGracePeriodSeconds: opts.nodeGracePeriodSeconds,
    podEvictionDelaySeconds: opts.podEvictionDelaySeconds,
    disruption: opts.disruption,
    clusterCIDR: opts.clusterCIDR,
    nodeCIDRMaskSize: opts.nodeCIDRMaskSize,
    kubelet: opts.kubelet,
    clusterSigningCa: opts.clusterSigningCa,
    clusterSigningDurationMs: opts.clusterSigningDurationMs,
    hpaSyncPeriodMs: opts.hpaSyncPeriodSeconds !== undefined ? opts.hpaSyncPeriodSeconds * 1000 : undefined,
    log: (msg, fields) => opts.log.info(fields ?? {}, msg),
  });
  return { leader: () => manager.leader(), stop: () => manager.stop() };
}
