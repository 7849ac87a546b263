// translateProject: a loaded compose project -> the Kubernetes-shaped manifests Skiff applies,
// plus a plan per service (its workload kind, dependencies with their conditions, its build)
// that `up` follows. Pure: files are read through ctx.readFile, nothing is sent anywhere.
// Diagnostics collect every warning and refusal instead of stopping at the first.
import type { Diagnostic } from '../keys.js';
import { listOrDict, type JsonMap, type Project, type ServiceSpec } from '../model.js';
import { container } from './container.js';
import { refuse, seconds, warn, type TranslateContext } from './context.js';
import { workload, type Workload } from './deploy.js';
import { k8sName, projectLabels, selectorLabels } from './names.js';
import { serviceObjects, servicePorts, type PortMapping } from './ports.js';
import { probes } from './probes.js';
import { claimObjects, fileObjects, storage } from './volumes.js';

export type Condition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface Manifest {
  json: JsonMap;
  /** The compose key it comes from (services.web, volumes.data, secrets.pw), for errors. */
  key: string;
}

export interface ServicePlan {
  /** The compose service name. */
  name: string;
  /** Its objects' name (a DNS label). */
  objectName: string;
  kind: Workload['kind'];
  replicas: number;
  image: string;
  hasHealthcheck: boolean;
  dependsOn: { service: string; condition: Condition; required: boolean }[];
  published: PortMapping[];
  build?: { context: string; dockerfile?: string; args: Record<string, string>; target?: string };
  manifests: Manifest[];
}

export interface Translation {
  namespace: Manifest;
  /** PersistentVolumeClaims, Secrets and ConfigMaps the services use. */
  shared: Manifest[];
  /** In dependency order (a service after those it depends on). */
  services: ServicePlan[];
  diagnostics: Diagnostic[];
}

export interface TranslateOptions {
  readFile: (absPath: string) => string;
  /** Registry built images are pushed to (and named after): e.g. 127.0.0.1:5000. */
  registry: string;
}

function dependsOn(ctx: TranslateContext, name: string, svc: ServiceSpec): ServicePlan['dependsOn'] {
  const d = svc.depends_on;
  if (!d) return [];
  if (Array.isArray(d)) return d.map((s) => ({ service: s, condition: 'service_started', required: true }));
  return Object.entries(d).map(([s, v]) => {
    if (v.restart !== undefined) warn(ctx, `services.${name}.depends_on.${s}.restart`, 'ignored: dependents are not restarted with it');
    return { service: s, condition: v.condition ?? 'service_started', required: v.required ?? true };
  });
}

/** Services ordered so each comes after its dependencies; a cycle is refused. */
export function dependencyOrder(ctx: TranslateContext, plans: ServicePlan[]): ServicePlan[] {
  const byName = new Map(plans.map((p) => [p.name, p]));
  const out: ServicePlan[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (p: ServicePlan, chain: string[]): void => {
    const s = state.get(p.name);
    if (s === 'done') return;
    if (s === 'visiting') {
      refuse(ctx, `services.${p.name}.depends_on`, `dependency cycle: ${[...chain, p.name].join(' -> ')}`);
      return;
    }
    state.set(p.name, 'visiting');
    for (const d of p.dependsOn) {
      const dep = byName.get(d.service);
      if (dep) visit(dep, [...chain, p.name]);
    }
    state.set(p.name, 'done');
    out.push(p);
  };
  for (const p of [...plans].sort((a, b) => a.name.localeCompare(b.name))) visit(p, []);
  return out;
}

function activeProfiles(project: Project): Set<string> {
  return new Set((project.env('COMPOSE_PROFILES') ?? '').split(',').map((s) => s.trim()).filter(Boolean));
}

/** Kubernetes' Pod Security Admission label (control-plane/api/validation/pod-security.ts). */
const POD_SECURITY_ENFORCE = 'pod-security.kubernetes.io/enforce';

export function translateProject(project: Project, opts: TranslateOptions): Translation {
  const ctx: TranslateContext = { project, readFile: opts.readFile, diagnostics: [] };
  const ns = project.namespace;
  const nsLabels = projectLabels(project.name);
  const profiles = activeProfiles(project);
  const plans: ServicePlan[] = [];
  const usedVolumes = new Set<string>();
  const usedSecrets = new Set<string>();
  const usedConfigs = new Set<string>();
  const objectNames = new Map<string, string>();
  // Services that need the host (bind mounts, network_mode: host): the project namespace is
  // labelled for the "privileged" pod security level, which Docker grants every container.
  const hostAccess: string[] = [];

  for (const [name, raw] of Object.entries(project.model.services ?? {})) {
    const svc: ServiceSpec = raw ?? {};
    const base = `services.${name}`;
    if (svc.profiles?.length && !svc.profiles.some((p) => profiles.has(p))) {
      warn(ctx, `${base}.profiles`, `not started: its profiles (${svc.profiles.join(', ')}) are not active (COMPOSE_PROFILES)`);
      continue;
    }
    const objectName = k8sName(name);
    if (!objectName) {
      refuse(ctx, base, `the service name "${name}" has no letters or digits to name its objects with`);
      continue;
    }
    const clash = objectNames.get(objectName);
    if (clash) refuse(ctx, base, `"${name}" and "${clash}" both become "${objectName}" (Kubernetes names are lowercase, "-" for "_" and "."): rename one`);
    objectNames.set(objectName, name);
    if (objectName.length > 53) refuse(ctx, base, `the service name is too long: at most 53 characters ("${objectName}-published" must fit in 63)`);

    let build: ServicePlan['build'];
    if (svc.build !== undefined) {
      const b = typeof svc.build === 'string' ? { context: svc.build } : svc.build;
      const args: Record<string, string> = {};
      for (const [k, v] of listOrDict(b.args)) {
        const value = v ?? project.env(k);
        if (value !== undefined) args[k] = value;
      }
      for (const k of Object.keys(b)) {
        if (!['context', 'dockerfile', 'args', 'target'].includes(k) && !k.startsWith('x-')) {
          refuse(ctx, `${base}.build.${k}`, 'is not supported by skiff compose\'s build (context, dockerfile, args and target are)');
        }
      }
      build = { context: b.context ?? '.', dockerfile: b.dockerfile, args, target: b.target };
    }
    const image = svc.image ?? (build ? `${opts.registry}/${project.name}/${objectName}:latest` : '');
    if (!image) {
      refuse(ctx, base, 'needs image: (or build:)');
      continue;
    }
    for (const v of svc.volumes ?? []) {
      const src = typeof v === 'string' ? (v.includes(':') ? v.split(':')[0] : undefined) : v.type === 'volume' ? v.source : undefined;
      if (src && !/^[.~/]/.test(src)) usedVolumes.add(src);
    }
    for (const s of svc.secrets ?? []) usedSecrets.add(typeof s === 'string' ? s : s.source);
    for (const c of svc.configs ?? []) usedConfigs.add(typeof c === 'string' ? c : c.source);

    const labels = projectLabels(project.name, name);
    const selector = selectorLabels(project.name, name);
    const w = workload(ctx, name, svc);
    const c = container(ctx, name, svc, image);
    const p = probes(ctx, name, svc.healthcheck);
    if (p) Object.assign(c, p);
    if (w.resources) c.resources = { ...(c.resources as JsonMap | undefined), ...w.resources };
    const st = storage(ctx, name, svc);
    if (st.mounts.length) c.volumeMounts = st.mounts;
    const ports = servicePorts(ctx, name, svc);
    if (ports.container.length) c.ports = ports.container.map((x) => ({ containerPort: x.port, protocol: x.protocol }));

    const podSpec: JsonMap = { containers: [c] };
    if (st.volumes.length) podSpec.volumes = st.volumes;
    if (w.kind === 'Pod') podSpec.restartPolicy = w.restartPolicy;
    const grace = seconds(ctx, `${base}.stop_grace_period`, svc.stop_grace_period);
    if (grace !== undefined) podSpec.terminationGracePeriodSeconds = grace;
    if (svc.hostname) podSpec.hostname = svc.hostname;
    if (w.nodeSelector) podSpec.nodeSelector = w.nodeSelector;
    if (svc.network_mode !== undefined) {
      if (svc.network_mode === 'host') podSpec.hostNetwork = true;
      else refuse(ctx, `${base}.network_mode`, `"${svc.network_mode}" is not supported: services share the project network; only "host" is translated (hostNetwork)`);
    }
    const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : v);
    const dns: JsonMap = {};
    if (svc.dns !== undefined) dns.nameservers = list(svc.dns);
    if (svc.dns_search !== undefined) dns.searches = list(svc.dns_search);
    if (svc.dns_opt !== undefined) dns.options = svc.dns_opt.map((o): JsonMap => (o.includes(':') ? { name: o.split(':')[0]!, value: o.slice(o.indexOf(':') + 1) } : { name: o }));
    if (Object.keys(dns).length) podSpec.dnsConfig = dns;
    if (podSpec.hostNetwork || st.volumes.some((v) => v.hostPath)) hostAccess.push(name);

    const annotations: Record<string, string> = {};
    for (const [k, v] of listOrDict(svc.labels)) annotations[k] = v ?? '';
    for (const [k, v] of listOrDict(svc.annotations)) annotations[k] = v ?? '';
    const podMeta: JsonMap = { labels, ...(Object.keys(annotations).length ? { annotations } : {}) };
    const objMeta = (extra: Record<string, string> = {}): JsonMap => ({
      name: objectName, namespace: ns, labels,
      ...(Object.keys({ ...annotations, ...extra }).length ? { annotations: { ...annotations, ...extra } } : {}),
    });
    const manifests: Manifest[] = serviceObjects({ name: objectName, namespace: ns, labels, selector, ports, headless: w.headless })
      .map((json) => ({ json, key: base }));
    if (w.kind === 'Deployment') {
      manifests.push({
        key: base,
        json: {
          apiVersion: 'apps/v1', kind: 'Deployment', metadata: objMeta(w.annotations),
          spec: { replicas: w.replicas, selector: { matchLabels: selector }, template: { metadata: podMeta, spec: podSpec }, ...w.deploymentSpec },
        },
      });
    } else {
      manifests.push({ key: base, json: { apiVersion: 'v1', kind: 'Pod', metadata: { ...objMeta(w.annotations), labels }, spec: podSpec } });
    }
    plans.push({
      name, objectName, kind: w.kind, replicas: w.replicas, image, hasHealthcheck: !!p,
      dependsOn: dependsOn(ctx, name, svc), published: ports.published, build, manifests,
    });
  }

  const byName = new Map(plans.map((p) => [p.name, p]));
  for (const p of plans) {
    for (const d of p.dependsOn) {
      const path = `services.${p.name}.depends_on.${d.service}`;
      const dep = byName.get(d.service);
      if (!dep) {
        if (project.model.services?.[d.service] === undefined) refuse(ctx, path, `depends on undefined service "${d.service}"`);
        else if (d.required) refuse(ctx, path, `"${d.service}" is not started (inactive profile): activate its profile or set required: false`);
        continue;
      }
      if (d.condition === 'service_healthy' && !dep.hasHealthcheck) {
        refuse(ctx, path, `condition service_healthy, but "${d.service}" has no healthcheck: give it one or use service_started`);
      }
      if (d.condition === 'service_completed_successfully' && dep.kind !== 'Pod') {
        refuse(ctx, path, `condition service_completed_successfully, but "${d.service}" restarts forever: set restart: "no" (or on-failure) on it`);
      }
    }
  }
  const ordered = dependencyOrder(ctx, plans);
  const shared: Manifest[] = [
    ...claimObjects(ctx, usedVolumes, ns, nsLabels).map((json) => ({ json, key: `volumes.${(json.metadata as JsonMap).name as string}` })),
    ...fileObjects(ctx, 'secrets', usedSecrets, ns, nsLabels).map((json) => ({ json, key: `secrets.${(json.metadata as JsonMap).name as string}` })),
    ...fileObjects(ctx, 'configs', usedConfigs, ns, nsLabels).map((json) => ({ json, key: `configs.${(json.metadata as JsonMap).name as string}` })),
  ];
  for (const m of shared) {
    const a = ((m.json.metadata as JsonMap).annotations as JsonMap | undefined)?.['skiff.dev/compose-key'];
    if (typeof a === 'string') m.key = a;
  }
  const namespaceLabels: Record<string, string> = { ...nsLabels };
  if (hostAccess.length) {
    namespaceLabels[POD_SECURITY_ENFORCE] = 'privileged';
    warn(ctx, 'services', `${hostAccess.join(', ')} use${hostAccess.length === 1 ? 's' : ''} the host (bind mounts or network_mode: host): namespace "${ns}" gets the "privileged" pod security level (label ${POD_SECURITY_ENFORCE})`);
  }
  return {
    namespace: { key: 'name', json: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: namespaceLabels } } },
    shared,
    services: ordered,
    diagnostics: ctx.diagnostics,
  };
}

/** Every manifest in apply order: the namespace, shared objects, then each service's. */
export function allManifests(t: Translation): Manifest[] {
  return [t.namespace, ...t.shared, ...t.services.flatMap((s) => s.manifests)];
}
