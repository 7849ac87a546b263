// Service rules (Kubernetes' ValidateService, for the types and families Skiff serves): type,
// ports (range, protocol, names, duplicates, targetPort, nodePort only with NodePort or
// LoadBalancer),
// selector labels, clusterIP form (headless "None"), session affinity, traffic policies, and on
// update the immutable clusterIP. Whether a chosen IP or port is in range and free is the
// allocator's check (allocation/service.ts), made against the live reservations.
import type { Service, ServicePort } from '../../../proto/gen/skiff/v1/core.js';
import { parseIPv4 } from '../allocation/ranges.js';
import { HEADLESS, hasNodePorts } from '../allocation/service.js';
import { Causes } from './causes.js';
import { validateLabels } from './meta.js';
import { dns1123Label, portName } from './names.js';

const notIn = (v: string, allowed: string[]): string => `unsupported value "${v}": supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`;

const TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer'];
const PROTOCOLS = ['TCP', 'UDP'];
const MAX_AFFINITY_TIMEOUT = 86400;

function validatePort(p: ServicePort, i: number, svc: Service, c: Causes): void {
  const path = `spec.ports[${i}]`;
  const many = (svc.spec?.ports.length ?? 0) > 1;
  if (p.name) {
    const why = dns1123Label(p.name);
    if (why) c.add(`${path}.name`, why);
  } else if (many) c.add(`${path}.name`, 'required: a name is required when the service has more than one port');
  if (p.port < 1 || p.port > 65535) c.add(`${path}.port`, `Invalid value: ${p.port}: must be between 1 and 65535, inclusive`);
  if (!PROTOCOLS.includes(p.protocol)) c.add(`${path}.protocol`, notIn(p.protocol, PROTOCOLS));
  const t = p.targetPort;
  if (t?.type === 1) {
    const why = portName(t.strVal);
    if (why) c.add(`${path}.targetPort`, why);
  } else if (t && (t.intVal < 1 || t.intVal > 65535)) {
    c.add(`${path}.targetPort`, `Invalid value: ${t.intVal}: must be between 1 and 65535, inclusive`);
  }
  if (p.nodePort !== 0) {
    if (!hasNodePorts(svc.spec?.type)) c.add(`${path}.nodePort`, `forbidden: may not be used when \`type\` is '${svc.spec?.type ?? ''}'`);
    else if (p.nodePort < 1 || p.nodePort > 65535) c.add(`${path}.nodePort`, `Invalid value: ${p.nodePort}: must be between 1 and 65535, inclusive`);
  }
  if (p.appProtocol !== undefined && p.appProtocol !== '' && !/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(p.appProtocol)) {
    c.add(`${path}.appProtocol`, `Invalid value: "${p.appProtocol}": must be a standard service name or a domain-prefixed name`);
  }
}

function validateClusterIP(svc: Service, c: Causes): void {
  const s = svc.spec!;
  const ip = s.clusterIP;
  if (ip && ip !== HEADLESS && parseIPv4(ip) === undefined) {
    c.add('spec.clusterIP', `Invalid value: "${ip}": must be empty, 'None', or a valid IPv4 address`);
  }
  if (s.clusterIPs.length > 1) {
    c.add('spec.clusterIPs', 'Invalid value: this cluster is single-stack IPv4: at most one clusterIP');
  }
  if (s.clusterIPs.length && s.clusterIPs[0] !== ip) {
    c.add('spec.clusterIPs[0]', `Invalid value: "${s.clusterIPs[0]}": must match \`clusterIP\` "${ip}"`);
  }
  if (ip === HEADLESS && hasNodePorts(s.type)) {
    c.add('spec.clusterIP', `Invalid value: "None": may not be set to 'None' for ${s.type} services`);
  }
}

function validateAffinity(svc: Service, c: Causes): void {
  const s = svc.spec!;
  const affinities = ['None', 'ClientIP'];
  if (!affinities.includes(s.sessionAffinity)) c.add('spec.sessionAffinity', notIn(s.sessionAffinity, affinities));
  if (s.sessionAffinity === 'ClientIP') {
    const t = s.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (t === undefined || t <= 0 || t > MAX_AFFINITY_TIMEOUT) {
      c.add('spec.sessionAffinityConfig.clientIP.timeoutSeconds', `Invalid value: ${t ?? 'null'}: must be greater than 0 and less than ${MAX_AFFINITY_TIMEOUT}`);
    }
  } else if (s.sessionAffinityConfig) {
    c.add('spec.sessionAffinityConfig', `Invalid value: must not be set when \`sessionAffinity\` is ${s.sessionAffinity}`);
  }
}

function validateFamilies(svc: Service, c: Causes): void {
  const s = svc.spec!;
  s.ipFamilies.forEach((f, i) => {
    if (f !== 'IPv4') c.add(`spec.ipFamilies[${i}]`, notIn(f, ['IPv4']));
  });
  if (s.ipFamilies.length > 1) c.add('spec.ipFamilies', 'Invalid value: this cluster is single-stack IPv4: at most one family');
  const policies = ['SingleStack', 'PreferDualStack'];
  if (s.ipFamilyPolicy !== undefined && !policies.includes(s.ipFamilyPolicy)) c.add('spec.ipFamilyPolicy', notIn(s.ipFamilyPolicy, policies));
  if (s.externalTrafficPolicy) {
    if (!hasNodePorts(s.type)) c.add('spec.externalTrafficPolicy', 'Invalid value: may only be set for externally-accessible services');
    else if (s.externalTrafficPolicy !== 'Cluster') c.add('spec.externalTrafficPolicy', notIn(s.externalTrafficPolicy, ['Cluster']));
  }
  if (s.internalTrafficPolicy !== undefined && s.internalTrafficPolicy !== 'Cluster') {
    c.add('spec.internalTrafficPolicy', notIn(s.internalTrafficPolicy, ['Cluster']));
  }
}

export function validateService(svc: Service, c: Causes): void {
  const s = svc.spec;
  if (!s) return c.add('spec', 'required');
  if (!TYPES.includes(s.type)) c.add('spec.type', notIn(s.type, TYPES));
  if (s.ports.length === 0 && s.clusterIP !== HEADLESS) c.add('spec.ports', 'required');
  const names = new Set<string>();
  const pairs = new Set<string>();
  const nodePorts = new Set<string>();
  s.ports.forEach((p, i) => {
    validatePort(p, i, svc, c);
    if (p.name) {
      if (names.has(p.name)) c.add(`spec.ports[${i}].name`, `Duplicate value: "${p.name}"`);
      names.add(p.name);
    }
    const pair = `${p.port}/${p.protocol}`;
    if (pairs.has(pair)) c.add(`spec.ports[${i}]`, `Duplicate value: port ${p.port} with protocol ${p.protocol}`);
    pairs.add(pair);
    if (p.nodePort) {
      const np = `${p.nodePort}/${p.protocol}`;
      if (nodePorts.has(np)) c.add(`spec.ports[${i}].nodePort`, `Duplicate value: ${p.nodePort}/${p.protocol}`);
      nodePorts.add(np);
    }
  });
  validateLabels(s.selector, 'spec.selector', c);
  validateClusterIP(svc, c);
  validateAffinity(svc, c);
  validateFamilies(svc, c);
}

export function validateServiceUpdate(next: Service, old: Service, c: Causes): void {
  const was = old.spec?.clusterIP ?? '';
  const now = next.spec?.clusterIP ?? '';
  if (was && now !== was) c.add('spec.clusterIP', `Invalid value: "${now}": field is immutable`);
}
