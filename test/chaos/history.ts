// What a chaos run records and the checker reads: every watch event (pods, Deployments, nodes),
// every API response the workload got, and every fault window. Times are ms since the start.
import type { FaultKind } from './schedule.js';

export interface PodEvent {
  t: number;
  revision: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  uid: string;
  name: string;
  /** The chaos Deployment the pod belongs to (its `chaos` label). */
  app: string;
  nodeName: string;
  ready: boolean;
  terminating: boolean;
  /** Restarts of its containers, summed (containerStatuses[].restartCount). */
  restarts: number;
}

export interface DeploymentEvent {
  t: number;
  revision: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  name: string;
  replicas: number;
  maxSurge: number;
  maxUnavailable: number;
}

/** A node's Lease renewal or Ready condition as etcd recorded it (diagnostics and the lease-gap check). */
export interface NodeEvent {
  t: number;
  revision: number;
  node: string;
  /**
   * 'lease': spec.renewTime changed; 'ready': the Node's Ready condition status changed; 'disk':
   * its DiskPressure status or disk-pressure taint changed (value `<status>/<tainted>`).
   */
  what: 'lease' | 'ready' | 'disk';
  value: string;
}

/** A change of the controller manager's election key (who leads, from which create revision). */
export interface TermEvent {
  revision: number;
  type: 'put' | 'delete';
  /** For a put: the holder and the key's create revision (the term's fence). */
  identity?: string;
  createRevision?: number;
}

/** An Event a controller created: a write made by the leader `identity` (its source.host) at `revision`. */
export interface ControllerWrite {
  t: number;
  revision: number;
  identity: string;
  reason: string;
}

/** One API call of the workload; outcome 'unknown' when it timed out (it may have landed). */
export interface ApiRecord {
  t: number;
  op: 'create-journal' | 'rollout' | 'scale' | 'conflict' | 'bad-input';
  name: string;
  outcome: 'ok' | 'error' | 'unknown';
  code?: string;
  /** rollout: the template's chaos/rev; scale: replicas; conflict: the value written. */
  value?: number;
  /** For conflict pairs: the resourceVersion both updates were based on. */
  basedOn?: string;
}

export interface FaultRecord {
  kind: FaultKind;
  start: number;
  end: number;
  detail: string;
  /** For kill-agent and fill-disk: the node. */
  node?: string;
  /** For kill-container: the pod whose container was killed. */
  uid?: string;
}

export interface FinalState {
  /** Names of the journal ConfigMaps that exist at the end. */
  journal: string[];
  /** Deployment name -> the template's chaos/rev, spec.replicas, metadata chaos/conflict. */
  deployments: Record<string, { rev: number; replicas: number; conflict: number }>;
  /** Every object name present at the end, any kind the bad inputs touched. */
  names: string[];
}

export interface History {
  seed: number;
  pods: PodEvent[];
  deployments: DeploymentEvent[];
  nodes: NodeEvent[];
  /** The election key as it was when the recorder started, then every change. */
  terms: TermEvent[];
  controllerWrites: ControllerWrite[];
  api: ApiRecord[];
  faults: FaultRecord[];
  /** When the last fault ended (faults stop); convergence is measured from here. */
  quietAt: number;
  /** When the cluster was seen converged, or undefined if never within the bound. */
  convergedAt?: number;
  final?: FinalState;
  /** Watch streams that broke and were resumed (not a failure by itself). */
  watchRestarts: number;
}
