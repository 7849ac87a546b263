// PodSpec rules (Kubernetes' ValidatePodSpec, the parts Skiff's fields have): containers,
// ports, resources, probes, volumes, policies.
import { isIP } from 'node:net';
import { posix } from 'node:path';
import type { Container, LifecycleHandler, PodSpec, Probe } from '../../../proto/gen/skiff/v1/core.js';
import type { IntOrString } from '../../../proto/gen/skiff/v1/meta.js';
import { parseQuantity, QuantityError, type Quantity } from '../../../proto/api/quantity.js';
import { Causes, join } from './causes.js';
import { validateConfigVolume, validateEnvSources } from './config.js';
import { dns1123Label, dns1123Subdomain, portName } from './names.js';

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const TOLERATION_OPS = ['Exists', 'Equal'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const EMPTY_DIR_MEDIA = ['', 'Memory'];

/** Kubernetes' validateLocalDescendingPath: a subPath stays under its volume. */
export function subPathProblem(p: string): string | undefined {
  if (p.includes('\0')) return 'must not contain a NUL character';
  if (p.startsWith('/')) return `must be a relative path, got "${p}"`;
  if (p.split('/').includes('..')) return `must not contain '..', got "${p}"`;
  return undefined;
}

/** A hostPath is absolute and clean: one spelling per host directory, none that climbs. */
export function hostPathProblem(p: string): string | undefined {
  if (p.includes('\0')) return 'must not contain a NUL character';
  if (!p.startsWith('/')) return `must be an absolute path, got "${p}"`;
  if (p.split('/').includes('..')) return `must not contain '..', got "${p}"`;
  const clean = posix.normalize(p).replace(/(.)\/$/, '$1');
  if (clean !== p) return `must be a clean path ("${clean}"), got "${p}"`;
  return undefined;
}

const notIn = (v: string, allowed: string[]): string => `unsupported value "${v}": supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`;

// Like Kubernetes, a named port is only checked for its form: the name is resolved when probing.
function validPort(p: IntOrString | undefined, path: string, c: Causes): void {
  if (!p) return c.add(path, 'required');
  if (p.type === 0) {
    if (p.intVal < 1 || p.intVal > 65535) c.add(path, `${p.intVal} must be between 1 and 65535, inclusive`);
  } else {
    const why = portName(p.strVal);
    if (why) c.add(path, why);
  }
}

function validateProbe(p: Probe | undefined, path: string, c: Causes): void {
  if (!p) return;
  const handlers = [p.exec && 'exec', p.httpGet && 'httpGet', p.tcpSocket && 'tcpSocket'].filter(Boolean);
  if (handlers.length === 0) c.add(path, 'must specify a handler type: exec, httpGet or tcpSocket');
  if (handlers.length > 1) c.add(path, `may not specify more than 1 handler type (got ${handlers.join(', ')})`);
  if (p.exec && p.exec.command.length === 0) c.add(join(path, 'exec.command'), 'required');
  if (p.httpGet) {
    validPort(p.httpGet.port, join(path, 'httpGet.port'), c);
    if (p.httpGet.scheme && !['HTTP', 'HTTPS'].includes(p.httpGet.scheme)) {
      c.add(join(path, 'httpGet.scheme'), notIn(p.httpGet.scheme, ['HTTP', 'HTTPS']));
    }
  }
  if (p.tcpSocket) validPort(p.tcpSocket.port, join(path, 'tcpSocket.port'), c);
  if (p.initialDelaySeconds < 0) c.add(join(path, 'initialDelaySeconds'), 'must be greater than or equal to 0');
  for (const f of ['timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    const v = p[f];
    if (v !== undefined && v < 1) c.add(join(path, f), 'must be greater than or equal to 1');
  }
}

function validatePreStop(h: LifecycleHandler | undefined, path: string, c: Causes): void {
  if (!h) return;
  const handlers = [h.exec && 'exec', h.httpGet && 'httpGet', h.sleep && 'sleep'].filter(Boolean);
  if (handlers.length === 0) c.add(path, 'must specify a handler type: exec, httpGet or sleep');
  if (handlers.length > 1) c.add(path, `may not specify more than 1 handler type (got ${handlers.join(', ')})`);
  if (h.exec && h.exec.command.length === 0) c.add(join(path, 'exec.command'), 'required');
  if (h.httpGet) {
    validPort(h.httpGet.port, join(path, 'httpGet.port'), c);
    if (h.httpGet.scheme && !['HTTP', 'HTTPS'].includes(h.httpGet.scheme)) c.add(join(path, 'httpGet.scheme'), notIn(h.httpGet.scheme, ['HTTP', 'HTTPS']));
  }
  if (h.sleep && h.sleep.seconds < 0) c.add(join(path, 'sleep.seconds'), 'must be greater than or equal to 0');
}

function quantities(m: Record<string, string>, path: string, c: Causes): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  for (const [name, text] of Object.entries(m)) {
    const p = `${path}[${name}]`;
    try {
      const q = parseQuantity(text);
      if (q.value < 0) c.add(p, `"${text}" must be greater than or equal to 0`);
      else out.set(name, q);
    } catch (e) {
      if (!(e instanceof QuantityError)) throw e;
      c.add(p, e.message);
    }
  }
  return out;
}

function validateContainer(ct: Container, path: string, volumes: Set<string>, c: Causes, probes: boolean): void {
  if (!ct.name) c.add(join(path, 'name'), 'required');
  else {
    const why = dns1123Label(ct.name);
    if (why) c.add(join(path, 'name'), why);
  }
  if (!ct.image.trim()) c.add(join(path, 'image'), 'required');
  if (ct.imagePullPolicy && !PULL_POLICIES.includes(ct.imagePullPolicy)) {
    c.add(join(path, 'imagePullPolicy'), notIn(ct.imagePullPolicy, PULL_POLICIES));
  }
  const portNames = new Set<string>();
  ct.ports.forEach((p, i) => {
    const pp = `${path}.ports[${i}]`;
    if (p.containerPort < 1 || p.containerPort > 65535) {
      c.add(join(pp, 'containerPort'), `${p.containerPort} must be between 1 and 65535, inclusive`);
    }
    if (p.hostPort < 0 || p.hostPort > 65535) c.add(join(pp, 'hostPort'), `${p.hostPort} must be between 1 and 65535, inclusive`);
    if (p.protocol && !PROTOCOLS.includes(p.protocol)) c.add(join(pp, 'protocol'), notIn(p.protocol, PROTOCOLS));
    if (p.name) {
      const why = portName(p.name);
      if (why) c.add(join(pp, 'name'), why);
      else if (portNames.has(p.name)) c.add(join(pp, 'name'), `duplicate port name "${p.name}"`);
      portNames.add(p.name);
    }
  });
  ct.env.forEach((e, i) => {
    if (!e.name) c.add(`${path}.env[${i}].name`, 'required');
  });
  validateEnvSources(ct, path, c);
  if (ct.resources) {
    const limits = quantities(ct.resources.limits, join(path, 'resources.limits'), c);
    const requests = quantities(ct.resources.requests, join(path, 'resources.requests'), c);
    for (const [name, q] of requests) {
      const lim = limits.get(name);
      if (lim && q.value > lim.value) {
        c.add(`${path}.resources.requests[${name}]`, `"${q.text}" must be less than or equal to the ${name} limit "${lim.text}"`);
      }
    }
  }
  ct.volumeMounts.forEach((vm, i) => {
    const vp = `${path}.volumeMounts[${i}]`;
    if (!vm.name) c.add(join(vp, 'name'), 'required');
    else if (!volumes.has(vm.name)) c.add(join(vp, 'name'), `no volume named "${vm.name}" in spec.volumes`);
    if (!vm.mountPath) c.add(join(vp, 'mountPath'), 'required');
    if (vm.subPath) {
      const why = subPathProblem(vm.subPath);
      if (why) c.add(join(vp, 'subPath'), why);
    }
  });
  if (probes) {
    validatePreStop(ct.lifecycle?.preStop, join(path, 'lifecycle.preStop'), c);
    validateProbe(ct.livenessProbe, join(path, 'livenessProbe'), c);
    validateProbe(ct.readinessProbe, join(path, 'readinessProbe'), c);
    validateProbe(ct.startupProbe, join(path, 'startupProbe'), c);
    if (ct.livenessProbe?.successThreshold !== undefined && ct.livenessProbe.successThreshold !== 1) {
      c.add(join(path, 'livenessProbe.successThreshold'), 'must be 1');
    }
    if (ct.startupProbe?.successThreshold !== undefined && ct.startupProbe.successThreshold !== 1) {
      c.add(join(path, 'startupProbe.successThreshold'), 'must be 1');
    }
  } else {
    for (const f of ['livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'] as const) {
      if (ct[f]) c.add(join(path, f), 'may not be set for init containers');
    }
  }
}

export function validatePodSpec(s: PodSpec | undefined, path: string, c: Causes): void {
  if (!s) return c.add(path, 'required');
  const volumes = new Set<string>();
  s.volumes.forEach((v, i) => {
    const vp = `${path}.volumes[${i}]`;
    if (!v.name) c.add(join(vp, 'name'), 'required');
    else {
      const why = dns1123Label(v.name);
      if (why) c.add(join(vp, 'name'), why);
      if (volumes.has(v.name)) c.add(join(vp, 'name'), `duplicate volume name "${v.name}"`);
      volumes.add(v.name);
    }
    const sources = [v.emptyDir, v.hostPath, v.persistentVolumeClaim, v.configMap, v.secret].filter(Boolean).length;
    if (sources === 0) c.add(vp, 'must specify a volume type: emptyDir, hostPath, persistentVolumeClaim, configMap or secret');
    validateConfigVolume(v, vp, c);
    if (sources > 1) c.add(vp, 'may not specify more than 1 volume type');
    if (v.hostPath && !v.hostPath.path) c.add(join(vp, 'hostPath.path'), 'required');
    else if (v.hostPath) {
      const why = hostPathProblem(v.hostPath.path);
      if (why) c.add(join(vp, 'hostPath.path'), why);
    }
    // HugePages-* media need hugepage accounting on the node, which the agent does not do.
    if (v.emptyDir?.medium && !EMPTY_DIR_MEDIA.includes(v.emptyDir.medium)) c.add(join(vp, 'emptyDir.medium'), notIn(v.emptyDir.medium, EMPTY_DIR_MEDIA));
    if (v.persistentVolumeClaim) {
      const claim = v.persistentVolumeClaim.claimName;
      if (!claim) c.add(join(vp, 'persistentVolumeClaim.claimName'), 'required');
      else {
        const why = dns1123Subdomain(claim);
        if (why) c.add(join(vp, 'persistentVolumeClaim.claimName'), why);
      }
    }
    if (v.emptyDir?.sizeLimit) quantities({ sizeLimit: v.emptyDir.sizeLimit }, join(vp, 'emptyDir'), c);
  });
  if (s.containers.length === 0) c.add(join(path, 'containers'), 'required: a pod needs at least one container');
  const names = new Map<string, string>();
  const checkName = (ct: Container, p: string): void => {
    if (!ct.name) return;
    const first = names.get(ct.name);
    if (first) c.add(join(p, 'name'), `duplicate container name "${ct.name}" (also ${first})`);
    else names.set(ct.name, p);
  };
  s.initContainers.forEach((ct, i) => {
    const p = `${path}.initContainers[${i}]`;
    validateContainer(ct, p, volumes, c, false);
    checkName(ct, p);
  });
  s.containers.forEach((ct, i) => {
    const p = `${path}.containers[${i}]`;
    validateContainer(ct, p, volumes, c, true);
    checkName(ct, p);
  });
  if (s.restartPolicy && !RESTART_POLICIES.includes(s.restartPolicy)) {
    c.add(join(path, 'restartPolicy'), notIn(s.restartPolicy, RESTART_POLICIES));
  }
  if (s.dnsPolicy && !DNS_POLICIES.includes(s.dnsPolicy)) c.add(join(path, 'dnsPolicy'), notIn(s.dnsPolicy, DNS_POLICIES));
  validateDnsConfig(s, path, c);
  if (s.terminationGracePeriodSeconds !== undefined && s.terminationGracePeriodSeconds < 0) {
    c.add(join(path, 'terminationGracePeriodSeconds'), 'must be greater than or equal to 0');
  }
  if (s.activeDeadlineSeconds !== undefined && s.activeDeadlineSeconds < 1) {
    c.add(join(path, 'activeDeadlineSeconds'), 'must be greater than or equal to 1');
  }
  if (s.nodeName) {
    const why = dns1123Label(s.nodeName.split('.')[0] ?? '');
    if (why) c.add(join(path, 'nodeName'), why);
  }
  s.imagePullSecrets.forEach((r, i) => {
    if (!r.name) c.add(`${path}.imagePullSecrets[${i}].name`, 'required');
  });
  s.tolerations.forEach((t, i) => {
    const tp = `${path}.tolerations[${i}]`;
    if (t.operator && !TOLERATION_OPS.includes(t.operator)) c.add(join(tp, 'operator'), notIn(t.operator, TOLERATION_OPS));
    if (t.operator === 'Exists' && t.value) c.add(join(tp, 'value'), 'must be empty when operator is "Exists"');
    if (t.effect && !TAINT_EFFECTS.includes(t.effect)) c.add(join(tp, 'effect'), notIn(t.effect, TAINT_EFFECTS));
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      c.add(join(tp, 'tolerationSeconds'), 'may only be set when effect is "NoExecute"');
    }
  });
}

/** Kubernetes' limits on pod.spec.dnsConfig (validatePodDNSConfig). */
function validateDnsConfig(s: PodSpec, path: string, c: Causes): void {
  const d = s.dnsConfig;
  const p = join(path, 'dnsConfig');
  if (s.dnsPolicy === 'None' && !d?.nameservers.length) {
    c.add(join(p, 'nameservers'), 'must provide at least one DNS nameserver when DNS policy is None');
  }
  if (!d) return;
  if (d.nameservers.length > 3) c.add(join(p, 'nameservers'), `must not have more than 3 nameservers: ${d.nameservers.join(', ')}`);
  d.nameservers.forEach((ns, i) => {
    if (!isIP(ns)) c.add(`${p}.nameservers[${i}]`, `must be a valid IP address, got "${ns}"`);
  });
  if (d.searches.length > 32) c.add(join(p, 'searches'), 'must not have more than 32 search paths');
  d.options.forEach((o, i) => {
    if (!o.name) c.add(`${p}.options[${i}].name`, 'required');
  });
}
