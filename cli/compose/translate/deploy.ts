// deploy:, scale and restart -> the workload. A service that restarts (always, unless-stopped,
// deploy.restart_policy any, or nothing said: Skiff keeps services running as Swarm does)
// becomes a Deployment; `restart: "no"` / `on-failure` (or restart_policy none / on-failure)
// becomes a bare Pod with restartPolicy Never / OnFailure: a one-shot task that
// `depends_on: condition: service_completed_successfully` can wait for.
import type { JsonMap, ServiceSpec } from '../model.js';
import { listOrDict } from '../model.js';
import { bytesQuantity, cpuQuantity, int, refuse, seconds, warn, type TranslateContext } from './context.js';

export interface Workload {
  kind: 'Deployment' | 'Pod';
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  replicas: number;
  /** Deployment spec fields besides selector/template (strategy, minReadySeconds, autoRollback). */
  deploymentSpec: JsonMap;
  resources?: JsonMap;
  nodeSelector?: Record<string, string>;
  annotations: Record<string, string>;
  headless: boolean;
}

function restartPolicy(ctx: TranslateContext, name: string, svc: ServiceSpec): Workload['restartPolicy'] {
  const base = `services.${name}`;
  const cond = svc.deploy?.restart_policy?.condition;
  if (cond !== undefined) {
    if (svc.deploy?.restart_policy?.max_attempts !== undefined) warn(ctx, `${base}.deploy.restart_policy.max_attempts`, 'ignored: restarts back off (10 s doubling to 5 min) without a limit');
    if (cond === 'any') return 'Always';
    if (cond === 'on-failure') return 'OnFailure';
    if (cond === 'none') return 'Never';
    refuse(ctx, `${base}.deploy.restart_policy.condition`, `"${cond}": use any, on-failure or none`);
    return 'Always';
  }
  const r = svc.restart;
  if (r === undefined || r === 'always' || r === 'unless-stopped') return 'Always';
  if (r === 'no' || r === 'false') return 'Never';
  if (/^on-failure(:\d+)?$/.test(r)) {
    if (r.includes(':')) warn(ctx, `${base}.restart`, 'the retry limit is ignored: restarts back off (10 s doubling to 5 min) without a limit');
    return 'OnFailure';
  }
  refuse(ctx, `${base}.restart`, `"${r}": use "no", always, on-failure or unless-stopped`);
  return 'Always';
}

function resources(ctx: TranslateContext, name: string, svc: ServiceSpec): JsonMap | undefined {
  const r = svc.deploy?.resources;
  if (!r) return undefined;
  const base = `services.${name}.deploy.resources`;
  const limits: JsonMap = {};
  const requests: JsonMap = {};
  if (r.limits?.cpus !== undefined) {
    const q = cpuQuantity(ctx, `${base}.limits.cpus`, r.limits.cpus);
    if (q) limits.cpu = q;
  }
  if (r.limits?.memory !== undefined) {
    const q = bytesQuantity(ctx, `${base}.limits.memory`, r.limits.memory);
    if (q) limits.memory = q;
  }
  if (r.limits?.pids !== undefined) refuse(ctx, `${base}.limits.pids`, 'PID limits are not set by Skiff; remove it');
  if (r.reservations?.cpus !== undefined) {
    const q = cpuQuantity(ctx, `${base}.reservations.cpus`, r.reservations.cpus);
    if (q) requests.cpu = q;
  }
  if (r.reservations?.memory !== undefined) {
    const q = bytesQuantity(ctx, `${base}.reservations.memory`, r.reservations.memory);
    if (q) requests.memory = q;
  }
  if (r.reservations?.devices !== undefined) refuse(ctx, `${base}.reservations.devices`, 'devices are not scheduled by Skiff; remove it');
  if (r.reservations?.generic_resources !== undefined) refuse(ctx, `${base}.reservations.generic_resources`, 'generic resources are not scheduled by Skiff; remove it');
  const out: JsonMap = {};
  if (Object.keys(limits).length) out.limits = limits;
  if (Object.keys(requests).length) out.requests = requests;
  return Object.keys(out).length ? out : undefined;
}

function strategy(ctx: TranslateContext, name: string, svc: ServiceSpec, replicas: number): JsonMap {
  const u = svc.deploy?.update_config;
  if (!u) return {};
  const base = `services.${name}.deploy.update_config`;
  const spec: JsonMap = {};
  // Swarm updates `parallelism` tasks at a time (0: all at once), default 1.
  const par = int(ctx, `${base}.parallelism`, u.parallelism) ?? 1;
  const step = par === 0 ? Math.max(1, replicas) : par;
  const order = u.order ?? 'stop-first';
  if (order === 'start-first') spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: step, maxUnavailable: 0 } };
  else if (order === 'stop-first') spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: step } };
  else refuse(ctx, `${base}.order`, `"${order}": use start-first or stop-first`);
  // Swarm waits `delay` between batches; the closest Deployment knob holds each new pod this
  // long after it is Ready before it counts as available and the next batch starts.
  const delay = seconds(ctx, `${base}.delay`, u.delay);
  if (delay) spec.minReadySeconds = delay;
  if (u.failure_action === 'rollback') spec.autoRollback = true;
  else if (u.failure_action === 'continue') warn(ctx, `${base}.failure_action`, 'continue: the rollout goes on until its progress deadline (600 s), then stops (use rollback to go back by itself)');
  else if (u.failure_action !== undefined && u.failure_action !== 'pause') refuse(ctx, `${base}.failure_action`, `"${u.failure_action}": use pause, continue or rollback`);
  if (u.monitor !== undefined) warn(ctx, `${base}.monitor`, 'ignored: a new pod counts once it is Ready (and minReadySeconds passed)');
  if (u.max_failure_ratio !== undefined) warn(ctx, `${base}.max_failure_ratio`, 'ignored: a rollout fails when new pods crash-loop or the progress deadline passes');
  return spec;
}

function placement(ctx: TranslateContext, name: string, svc: ServiceSpec): Record<string, string> | undefined {
  const p = svc.deploy?.placement;
  if (!p) return undefined;
  const base = `services.${name}.deploy.placement`;
  const sel: Record<string, string> = {};
  (p.constraints ?? []).forEach((c, i) => {
    const m = /^\s*(node\.hostname|node\.labels\.([^\s=!]+)|node\.role|node\.platform\.\w+)\s*(==|!=)\s*(\S+)\s*$/.exec(c);
    if (!m || m[3] === '!=') {
      refuse(ctx, `${base}.constraints[${i}]`, `"${c}": only node.hostname==NAME and node.labels.KEY==VALUE are supported (they become a nodeSelector)`);
      return;
    }
    if (m[1] === 'node.hostname') sel['kubernetes.io/hostname'] = m[4]!;
    else if (m[2]) sel[m[2]] = m[4]!;
    else warn(ctx, `${base}.constraints[${i}]`, `ignored: every Skiff node runs workloads (${m[1]})`);
  });
  if (p.preferences !== undefined) warn(ctx, `${base}.preferences`, 'ignored: the scheduler spreads replicas by its own scores');
  if (p.max_replicas_per_node !== undefined) refuse(ctx, `${base}.max_replicas_per_node`, 'not supported (no pod anti-affinity yet); remove it');
  return Object.keys(sel).length ? sel : undefined;
}

export function workload(ctx: TranslateContext, name: string, svc: ServiceSpec): Workload {
  const base = `services.${name}`;
  const d = svc.deploy ?? {};
  if (d.mode !== undefined && d.mode !== 'replicated') {
    refuse(ctx, `${base}.deploy.mode`, `"${d.mode}" is not supported: Skiff has no DaemonSets or jobs; use mode: replicated with deploy.replicas`);
  }
  const fromDeploy = int(ctx, `${base}.deploy.replicas`, d.replicas);
  const fromScale = int(ctx, `${base}.scale`, svc.scale);
  if (fromDeploy !== undefined && fromScale !== undefined && fromDeploy !== fromScale) {
    refuse(ctx, `${base}.scale`, `scale (${fromScale}) and deploy.replicas (${fromDeploy}) differ: keep one`);
  }
  const replicas = fromDeploy ?? fromScale ?? 1;
  const restart = restartPolicy(ctx, name, svc);
  const kind = restart === 'Always' ? 'Deployment' : 'Pod';
  if (kind === 'Pod' && replicas !== 1) {
    refuse(ctx, `${base}.deploy.replicas`, `a service that does not restart (restart: ${svc.restart ?? svc.deploy?.restart_policy?.condition}) runs once as one pod: remove the replicas or let it restart`);
  }
  const annotations: Record<string, string> = {};
  for (const [k, v] of listOrDict(d.labels)) annotations[k] = v ?? '';
  const endpointMode = d.endpoint_mode ?? 'vip';
  if (endpointMode !== 'vip' && endpointMode !== 'dnsrr') refuse(ctx, `${base}.deploy.endpoint_mode`, `"${endpointMode}": use vip or dnsrr`);
  const deploymentSpec = kind === 'Deployment' ? strategy(ctx, name, svc, replicas) : {};
  if (kind === 'Pod' && d.update_config) warn(ctx, `${base}.deploy.update_config`, 'ignored: a service that does not restart is not rolled');
  return {
    kind, restartPolicy: restart, replicas, deploymentSpec, annotations,
    resources: resources(ctx, name, svc), nodeSelector: placement(ctx, name, svc), headless: endpointMode === 'dnsrr',
  };
}
