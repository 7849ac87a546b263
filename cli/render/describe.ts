// `skiff describe` text: the object's metadata, a summary of its spec, its status and
// conditions, and its recent events, laid out like kubectl describe.
import type { AnyObject, KindInfo } from '../../proto/api/kinds.js';
import type { HorizontalPodAutoscaler, HPAScalingRules } from '../../proto/gen/skiff/v1/autoscaling.js';
import { toManifest } from '../../proto/api/manifest.js';
import type { Deployment, ReplicaSet } from '../../proto/gen/skiff/v1/apps.js';
import type {
  Container, ContainerState, Event, Namespace, Node, Pod, PodTemplateSpec, Probe, Service, ServicePort,
} from '../../proto/gen/skiff/v1/core.js';
import type { ConfigMap, Secret } from '../../proto/gen/skiff/v1/config.js';
import type { EndpointSlice } from '../../proto/gen/skiff/v1/discovery.js';
import type { Condition, IntOrString } from '../../proto/gen/skiff/v1/meta.js';
import { age } from '../../proto/api/columns/age.js';
import { eventTime, mapSelectorText, nodeRoles, nodeStatus, selectorText } from '../../proto/api/columns/columns.js';
import { toYaml } from './output.js';
import { podStatus } from '../../proto/api/columns/pod-status.js';
import { revisionOf } from './rollout.js';
import { formatTable } from './table.js';
import { describeClaim, describeStorageClass, describeVolume } from './describe-storage.js';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../proto/gen/skiff/v1/storage.js';

export interface DescribeExtras {
  events: Event[];
  /** The Deployment's ReplicaSets (for Deployment), newest first. */
  replicaSets?: ReplicaSet[];
  /** The ReplicaSet's pods (for ReplicaSet). */
  pods?: Pod[];
  /** The Service's EndpointSlices (for Service). */
  endpointSlices?: EndpointSlice[];
  /** Pods that mount the claim (for PersistentVolumeClaim). */
  claimUsers?: Pod[];
  now: number;
}

class Writer {
  private readonly lines: string[] = [];
  field(label: string, value: string, indent = 0): void {
    const pad = ' '.repeat(indent);
    const head = `${pad}${label}:`;
    const col = Math.max(head.length + 1, indent + 18);
    const [first = '', ...more] = value.split('\n');
    this.lines.push(`${head.padEnd(col)}${first}`.trimEnd());
    for (const m of more) this.lines.push(`${' '.repeat(col)}${m}`.trimEnd());
  }
  text(t: string, indent = 0): void {
    for (const l of t.split('\n')) this.lines.push(`${' '.repeat(indent)}${l}`.trimEnd());
  }
  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

const none = (s: string): string => s || '<none>';
const mapText = (m: Record<string, string> | undefined, sep = '='): string =>
  none(Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}${sep}${v}`).join('\n'));
const ios = (v: IntOrString | undefined): string => (v ? (v.type === 1 ? v.strVal : String(v.intVal)) : '');

function probeText(p: Probe | undefined): string {
  if (!p) return '';
  const action = p.httpGet
    ? `http-get ${p.httpGet.scheme === 'HTTPS' ? 'https' : 'http'}://${p.httpGet.host || ':'}${ios(p.httpGet.port)}${p.httpGet.path}`.replace('://:', '://:')
    : p.tcpSocket
      ? `tcp-socket :${ios(p.tcpSocket.port)}`
      : p.exec
        ? `exec [${p.exec.command.join(' ')}]`
        : 'none';
  return `${action} delay=${p.initialDelaySeconds}s timeout=${p.timeoutSeconds ?? 1}s period=${p.periodSeconds ?? 10}s #success=${p.successThreshold ?? 1} #failure=${p.failureThreshold ?? 3}`;
}

function stateText(s: ContainerState | undefined): string {
  if (s?.running) return `Running\n  Started: ${s.running.startedAt}`;
  if (s?.waiting) return `Waiting\n  Reason: ${none(s.waiting.reason)}${s.waiting.message ? `\n  Message: ${s.waiting.message}` : ''}`;
  if (s?.terminated) {
    const t = s.terminated;
    return `Terminated\n  Reason: ${none(t.reason)}\n  Exit Code: ${t.exitCode}${t.signal ? `\n  Signal: ${t.signal}` : ''}\n  Started: ${t.startedAt}\n  Finished: ${t.finishedAt}`;
  }
  return '';
}

function containerBlock(w: Writer, c: Container, indent: number, pod?: Pod): void {
  w.text(`${c.name}:`, indent);
  const i = indent + 2;
  const st = pod?.status?.containerStatuses.find((x) => x.name === c.name);
  if (st?.containerID) w.field('Container ID', st.containerID, i);
  w.field('Image', c.image, i);
  if (c.ports.length) w.field('Ports', c.ports.map((p) => `${p.containerPort}/${p.protocol || 'TCP'}${p.hostPort ? ` (host ${p.hostPort})` : ''}`).join(', '), i);
  if (c.command.length) w.field('Command', c.command.join('\n'), i);
  if (c.args.length) w.field('Args', c.args.join('\n'), i);
  if (st) {
    w.field('State', stateText(st.state), i);
    const last = stateText(st.lastState);
    if (last) w.field('Last State', last, i);
    w.field('Ready', st.ready ? 'True' : 'False', i);
    w.field('Restart Count', String(st.restartCount), i);
  }
  if (Object.keys(c.resources?.limits ?? {}).length) w.field('Limits', mapText(c.resources?.limits, ': '), i);
  if (Object.keys(c.resources?.requests ?? {}).length) w.field('Requests', mapText(c.resources?.requests, ': '), i);
  if (c.livenessProbe) w.field('Liveness', probeText(c.livenessProbe), i);
  if (c.readinessProbe) w.field('Readiness', probeText(c.readinessProbe), i);
  if (c.startupProbe) w.field('Startup', probeText(c.startupProbe), i);
  // As kubectl: references are named, never resolved (a Secret's value is not shown).
  const env = c.env.map((e) => {
    const r = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
    if (!r) return `${e.name}: ${e.value}`;
    return `${e.name}: <set to the key '${r.key}' ${e.valueFrom?.configMapKeyRef ? 'of config map' : 'in secret'} '${r.name}'>${r.optional ? '  Optional: true' : '  Optional: false'}`;
  });
  if (c.envFrom.length) {
    w.field('Environment Variables from', c.envFrom.map((f) => {
      const r = f.configMapRef ?? f.secretRef;
      return `${r?.name ?? ''}  ${f.configMapRef ? 'ConfigMap' : 'Secret'}  ${f.prefix ? `with prefix '${f.prefix}'  ` : ''}Optional: ${r?.optional ? 'true' : 'false'}`;
    }).join('\n'), i);
  }
  w.field('Environment', none(env.join('\n')), i);
}

function templateBlock(w: Writer, t: PodTemplateSpec | undefined): void {
  w.text('Pod Template:');
  w.field('Labels', mapText(t?.metadata?.labels), 2);
  if (Object.keys(t?.metadata?.annotations ?? {}).length) w.field('Annotations', mapText(t?.metadata?.annotations, ': '), 2);
  w.text('Containers:', 2);
  for (const c of t?.spec?.containers ?? []) containerBlock(w, c, 3);
}

function conditionsBlock(w: Writer, conds: readonly Condition[]): void {
  if (!conds.length) return;
  w.text('Conditions:');
  w.text(formatTable({ headers: ['Type', 'Status', 'Reason', 'Message'], rows: conds.map((c) => [c.type, c.status, c.reason, c.message]) }), 2);
}

function eventsBlock(w: Writer, events: readonly Event[], now: number): void {
  if (!events.length) {
    w.field('Events', '<none>');
    return;
  }
  w.text('Events:');
  const rows = [...events]
    .sort((a, b) => Date.parse(eventTime(a)) - Date.parse(eventTime(b)) || 0)
    .map((e) => [
      e.type, e.reason,
      e.count > 1 ? `${age(eventTime(e), now)} (x${e.count} over ${age(e.firstTimestamp, now)})` : age(eventTime(e), now),
      e.source?.component || e.reportingComponent || '', e.message,
    ]);
  w.text(formatTable({ headers: ['Type', 'Reason', 'Age', 'From', 'Message'], rows }), 2);
}

function describeDeployment(w: Writer, d: Deployment, x: DescribeExtras): void {
  const s = d.status;
  const spec = d.spec;
  w.field('Selector', selectorText(spec?.selector));
  w.field('Replicas', `${spec?.replicas ?? 1} desired | ${s?.updatedReplicas ?? 0} updated | ${s?.replicas ?? 0} total | ${s?.availableReplicas ?? 0} available | ${s?.unavailableReplicas ?? 0} unavailable`);
  w.field('StrategyType', spec?.strategy?.type || 'RollingUpdate');
  w.field('MinReadySeconds', String(spec?.minReadySeconds ?? 0));
  const ru = spec?.strategy?.rollingUpdate;
  if (ru) w.field('RollingUpdateStrategy', `${ios(ru.maxUnavailable)} max unavailable, ${ios(ru.maxSurge)} max surge`);
  if (spec?.paused) w.field('Paused', 'true');
  templateBlock(w, spec?.template);
  conditionsBlock(w, s?.conditions ?? []);
  const rss = x.replicaSets ?? [];
  const rev = revisionOf(d);
  const newRs = rss.find((r) => revisionOf(r) === rev) ?? rss[0];
  const rsText = (r: ReplicaSet): string => `${r.metadata?.name ?? ''} (${r.status?.replicas ?? 0}/${r.spec?.replicas ?? 1} replicas created)`;
  w.field('OldReplicaSets', none(rss.filter((r) => r !== newRs && (r.spec?.replicas ?? 0) > 0).map(rsText).join(', ')));
  w.field('NewReplicaSet', newRs ? rsText(newRs) : '<none>');
}

function describeReplicaSet(w: Writer, r: ReplicaSet, x: DescribeExtras): void {
  w.field('Selector', selectorText(r.spec?.selector));
  w.field('Replicas', `${r.status?.replicas ?? 0} current / ${r.spec?.replicas ?? 1} desired`);
  const pods = x.pods ?? [];
  const phase = (p: string): number => pods.filter((q) => (q.status?.phase || 'Pending') === p).length;
  w.field('Pods Status', `${phase('Running')} Running / ${phase('Pending')} Waiting / ${phase('Succeeded')} Succeeded / ${phase('Failed')} Failed`);
  templateBlock(w, r.spec?.template);
  conditionsBlock(w, r.status?.conditions ?? []);
}

function describePod(w: Writer, p: Pod): void {
  w.field('Node', none(p.spec?.nodeName ?? ''));
  if (p.status?.startTime) w.field('Start Time', p.status.startTime);
  w.field('Status', podStatus(p));
  if (p.status?.reason) w.field('Reason', p.status.reason);
  if (p.status?.message) w.field('Message', p.status.message);
  w.field('IP', none(p.status?.podIP ?? ''));
  w.text('Containers:');
  for (const c of p.spec?.containers ?? []) containerBlock(w, c, 2, p);
  conditionsBlock(w, p.status?.conditions ?? []);
}

function describeNode(w: Writer, n: Node): void {
  w.field('Roles', nodeRoles(n));
  w.field('Status', nodeStatus(n));
  w.field('Unschedulable', n.spec?.unschedulable ? 'true' : 'false');
  w.field('Taints', none((n.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join('\n')));
  conditionsBlock(w, n.status?.conditions ?? []);
  w.field('Addresses', none((n.status?.addresses ?? []).map((a) => `${a.type}: ${a.address}`).join('\n')));
  w.field('Capacity', mapText(n.status?.capacity, ': '));
  w.field('Allocatable', mapText(n.status?.allocatable, ': '));
  const i = n.status?.nodeInfo;
  if (i) {
    w.text('System Info:');
    w.field('OS Image', i.osImage, 2);
    w.field('Kernel Version', i.kernelVersion, 2);
    w.field('Container Runtime', i.containerRuntimeVersion, 2);
    w.field('Agent Version', i.kubeletVersion, 2);
  }
}

/**
 * kubectl's Endpoints line of one service port: the ready addresses with the port each slice
 * resolved for it (`10.88.0.2:8080,10.88.0.3:8080`), `<none>` when there are none.
 */
export function serviceEndpointsText(port: ServicePort, slices: readonly EndpointSlice[]): string {
  const out: string[] = [];
  for (const s of slices) {
    const ep = s.ports.find((p) => (p.name ?? '') === port.name && (p.protocol ?? 'TCP') === port.protocol);
    if (!ep || ep.port === undefined) continue;
    for (const e of s.endpoints) {
      if (e.conditions?.ready === false) continue;
      for (const a of e.addresses.slice(0, 1)) out.push(`${a}:${ep.port}`);
    }
  }
  return none(out.join(','));
}

function describeService(w: Writer, s: Service, x: DescribeExtras): void {
  const spec = s.spec;
  w.field('Selector', mapSelectorText(spec?.selector));
  w.field('Type', spec?.type ?? '');
  if (spec?.ipFamilyPolicy) w.field('IP Family Policy', spec.ipFamilyPolicy);
  if (spec?.ipFamilies.length) w.field('IP Families', spec.ipFamilies.join(','));
  w.field('IP', none(spec?.clusterIP ?? ''));
  if (spec?.clusterIPs.length) w.field('IPs', spec.clusterIPs.join(','));
  for (const p of spec?.ports ?? []) {
    const name = p.name || '<unset>';
    w.field('Port', `${name}  ${p.port}/${p.protocol}`);
    w.field('TargetPort', `${ios(p.targetPort)}/${p.protocol}`);
    if (p.nodePort) w.field('NodePort', `${name}  ${p.nodePort}/${p.protocol}`);
    w.field('Endpoints', serviceEndpointsText(p, x.endpointSlices ?? []));
  }
  w.field('Session Affinity', spec?.sessionAffinity || 'None');
  const timeout = spec?.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  if (spec?.sessionAffinity === 'ClientIP' && timeout !== undefined) w.field('Affinity Timeout', `${timeout}s`);
  if (spec?.type === 'NodePort') w.field('External Traffic Policy', spec.externalTrafficPolicy || 'Cluster');
  if (spec?.internalTrafficPolicy) w.field('Internal Traffic Policy', spec.internalTrafficPolicy);
  if (spec?.publishNotReadyAddresses) w.field('Publish Not Ready Addresses', 'true');
}

/** kubectl describe hpa: the reference, each metric "( current / target )", the limits and conditions. */
function describeHpa(w: Writer, h: HorizontalPodAutoscaler): void {
  const spec = h.spec;
  const s = h.status;
  w.field('Reference', `${spec?.scaleTargetRef?.kind ?? ''}/${spec?.scaleTargetRef?.name ?? ''}`);
  w.text('Metrics:                                               ( current / target )');
  (spec?.metrics ?? []).forEach((m, i) => {
    const name = m.resource?.name ?? m.type;
    const t = m.resource?.target;
    const cur = s?.currentMetrics[i]?.resource?.current;
    if (t?.type === 'Utilization') {
      const current = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}% (${cur.averageValue})` : '<unknown>';
      w.field(`resource ${name} on pods  (as a percentage of request)`, `${current} / ${t.averageUtilization ?? 0}%`, 2);
    } else {
      w.field(`resource ${name} on pods`, `${cur?.averageValue || '<unknown>'} / ${t?.averageValue ?? ''}`, 2);
    }
  });
  w.field('Min replicas', String(spec?.minReplicas ?? 1));
  w.field('Max replicas', String(spec?.maxReplicas ?? 0));
  const b = spec?.behavior;
  if (b) {
    const rules = (label: string, r: HPAScalingRules | undefined): void => {
      if (!r) return;
      w.text(`${label}:`);
      w.field('Stabilization Window', `${r.stabilizationWindowSeconds ?? 0} seconds`, 2);
      w.field('Select Policy', r.selectPolicy || 'Max', 2);
      w.text('Policies:', 2);
      for (const p of r.policies) w.text(`- Type: ${p.type}  Value: ${p.value}  Period: ${p.periodSeconds} seconds`, 4);
    };
    w.text('Behavior:');
    rules('  Scale Up', b.scaleUp);
    rules('  Scale Down', b.scaleDown);
  }
  w.field(`${spec?.scaleTargetRef?.kind ?? 'Deployment'} pods`, `${s?.currentReplicas ?? 0} current / ${s?.desiredReplicas ?? 0} desired`);
  if (s?.lastScaleTime) w.field('Last Scale Time', s.lastScaleTime);
  conditionsBlock(w, s?.conditions ?? []);
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const sortedKeys = (m: Record<string, unknown>): string[] => Object.keys(m).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

// As kubectl: ConfigMap values in full, binary ones by size.
function describeConfigMap(w: Writer, c: ConfigMap): void {
  w.text('\nData\n====');
  for (const k of sortedKeys(c.data)) w.text(`${k}:\n----\n${c.data[k]}\n`);
  w.text('\nBinaryData\n====');
  for (const k of sortedKeys(c.binaryData)) w.text(`${k}: ${c.binaryData[k]!.length} bytes`);
  if (c.immutable) w.field('Immutable', 'true');
}

// As kubectl: a Secret's values are never printed, only their sizes.
function describeSecret(w: Writer, s: Secret): void {
  w.text('');
  w.field('Type', s.type);
  if (s.immutable) w.field('Immutable', 'true');
  w.text('\nData\n====');
  for (const k of sortedKeys(s.data)) w.text(`${`${k}:`.padEnd(Math.max(k.length + 2, 10))}${s.data[k]!.length} bytes`);
}

export function describeObject(info: KindInfo, o: AnyObject, x: DescribeExtras): string {
  const w = new Writer();
  const m = o.metadata;
  w.field('Name', m?.name ?? '');
  if (info.namespaced) w.field('Namespace', m?.namespace ?? '');
  w.field('Labels', mapText(m?.labels));
  // kubectl hides the last-applied copy too: it repeats the manifest and drowns the rest.
  const { [LAST_APPLIED]: _lastApplied, ...annotations } = m?.annotations ?? {};
  w.field('Annotations', mapText(annotations, ': '));
  w.field('CreationTimestamp', m?.creationTimestamp ? `${m.creationTimestamp} (${age(m.creationTimestamp, x.now)} ago)` : '<unknown>');
  if (m?.deletionTimestamp) w.field('DeletionTimestamp', m.deletionTimestamp);
  const owner = m?.ownerReferences.find((r) => r.controller);
  if (owner) w.field('Controlled By', `${owner.kind}/${owner.name}`);
  switch (info.kind) {
    case 'Deployment':
      describeDeployment(w, o as Deployment, x);
      break;
    case 'ReplicaSet':
      describeReplicaSet(w, o as ReplicaSet, x);
      break;
    case 'Pod':
      describePod(w, o as Pod);
      break;
    case 'Node':
      describeNode(w, o as Node);
      break;
    case 'Service':
      describeService(w, o as Service, x);
      break;
    case 'Namespace':
      w.field('Status', (o as Namespace).status?.phase || 'Active');
      break;
    case 'PersistentVolumeClaim':
      describeClaim(w, o as PersistentVolumeClaim, x.claimUsers);
      break;
    case 'PersistentVolume':
      describeVolume(w, o as PersistentVolume);
      break;
    case 'StorageClass':
      describeStorageClass(w, o as StorageClass);
      break;
    case 'ConfigMap':
      describeConfigMap(w, o as ConfigMap);
      break;
    case 'Secret':
      describeSecret(w, o as Secret);
      break;
    case 'HorizontalPodAutoscaler':
      describeHpa(w, o as HorizontalPodAutoscaler);
      break;
    default: {
      // Kinds without a dedicated layout: their spec and status as YAML.
      const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = toManifest(info, o);
      if (Object.keys(rest).length) w.text(toYaml(rest).trimEnd());
    }
  }
  if (info.kind !== 'Event') eventsBlock(w, x.events, x.now);
  return w.toString();
}
