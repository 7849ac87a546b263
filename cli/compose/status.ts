// What a compose service is doing, from its workload and pods (a pure function of a snapshot),
// and whether a depends_on condition holds: service_started = a pod of it runs,
// service_healthy = every desired replica is Ready (readiness comes from its healthcheck),
// service_completed_successfully = its one-shot pod Succeeded.
import type { Deployment } from '../../proto/gen/skiff/v1/apps.js';
import type { Pod, Service } from '../../proto/gen/skiff/v1/core.js';
import { podIsReady, podStatus } from '../../proto/api/columns/pod-status.js';
import type { Condition } from './translate/index.js';

export interface ServiceSnapshot {
  name: string;
  kind: 'Deployment' | 'Pod';
  deployment?: Deployment;
  pods: Pod[];
  services: Service[];
}

export interface ServiceState {
  desired: number;
  running: number;
  ready: number;
  /** Updated to the current template (Deployments), else equal to ready. */
  updated: number;
  succeeded: boolean;
  failed: boolean;
  /** A short word for people: waiting, starting, running, healthy, exited (0), failed (1), CrashLoopBackOff... */
  text: string;
}

const live = (p: Pod): boolean => !p.metadata?.deletionTimestamp;

export function serviceState(s: ServiceSnapshot): ServiceState {
  const pods = s.pods.filter(live);
  const running = pods.filter((p) => p.status?.phase === 'Running').length;
  const ready = pods.filter(podIsReady).length;
  if (s.kind === 'Pod') {
    const p = pods[0];
    const phase = p?.status?.phase ?? '';
    const code = p?.status?.containerStatuses[0]?.state?.terminated?.exitCode;
    const succeeded = phase === 'Succeeded';
    const failed = phase === 'Failed';
    const text = !p ? 'waiting' : succeeded ? 'exited (0)' : failed ? `failed (${code ?? '?'})` : podStatus(p);
    return { desired: 1, running, ready, updated: ready, succeeded, failed, text };
  }
  const d = s.deployment;
  const desired = d?.spec?.replicas ?? 1;
  const updated = d?.status?.updatedReplicas ?? 0;
  const bad = pods.map(podStatus).find((t) => /CrashLoopBackOff|ErrImagePull|ImagePullBackOff|Error|OOMKilled/.test(t));
  const text = !d ? 'waiting'
    : bad ? bad
      : ready >= desired && updated >= desired && (d.status?.readyReplicas ?? 0) >= desired ? 'running'
        : running > 0 ? 'starting' : 'creating';
  return { desired, running, ready, updated, succeeded: false, failed: false, text };
}

/** True when the condition holds; throws when it never will (the one-shot failed). */
export function conditionMet(condition: Condition, s: ServiceSnapshot): boolean {
  const st = serviceState(s);
  switch (condition) {
    case 'service_started':
      return s.kind === 'Pod' ? st.running > 0 || st.succeeded || st.failed : st.running > 0;
    case 'service_healthy':
      return st.ready >= st.desired && st.updated >= st.desired;
    case 'service_completed_successfully':
      if (st.failed) throw new Error(`service "${s.name}" did not complete successfully: ${st.text}`);
      return st.succeeded;
  }
}

/** Everything is up: every Deployment rolled out with all replicas Ready, every one-shot done. */
export function settled(s: ServiceSnapshot): boolean {
  const st = serviceState(s);
  return s.kind === 'Pod' ? st.succeeded || st.failed || st.ready >= 1 : st.text === 'running';
}

/** "127.0.0.1:8080->5000/tcp" per published port, Docker's PORTS column; then unpublished container ports. */
export function portsText(services: readonly Service[]): string {
  const out: string[] = [];
  for (const svc of services) {
    if (svc.spec?.type !== 'LoadBalancer') continue;
    const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter(Boolean);
    const where = ips.length ? ips.join(',') : '0.0.0.0';
    for (const p of svc.spec.ports) {
      const target = p.targetPort?.type === 1 ? p.targetPort.strVal : String(p.targetPort?.intVal ?? p.port);
      out.push(`${where}:${p.port}->${target}/${p.protocol.toLowerCase()}`);
    }
  }
  return out.join(', ');
}
