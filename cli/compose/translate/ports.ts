// ports and expose. Every container port (ports' targets and expose) goes into the ClusterIP
// Service named after the service, so `web:5000` resolves in the project; published ports
// ("8080:5000") go into a LoadBalancer Service `<service>-published` whose port is the published
// one: every node's proxy answers on it on every node address, 127.0.0.1 included.
import type { JsonMap, PortLong, ServiceSpec } from '../model.js';
import { refuse, warn, type TranslateContext } from './context.js';

export interface PortMapping {
  target: number;
  /** Published port; undefined when only the container port is given. */
  published?: number;
  protocol: 'TCP' | 'UDP';
}

function range(s: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  return a >= 1 && b <= 65535 && a <= b ? [a, b] : undefined;
}

/** Parses one entry of `ports` (short or long syntax) into mappings. */
export function parsePort(ctx: TranslateContext, path: string, p: string | number | PortLong): PortMapping[] {
  if (typeof p === 'object') {
    const proto = (p.protocol ?? 'tcp').toUpperCase();
    if (proto !== 'TCP' && proto !== 'UDP') {
      refuse(ctx, `${path}.protocol`, `"${p.protocol}" is not supported: use tcp or udp`);
      return [];
    }
    if (p.mode === 'host') warn(ctx, `${path}.mode`, 'host mode is published like ingress: on every node through the Service');
    if (p.host_ip) warn(ctx, `${path}.host_ip`, 'ignored: the port is published on every node address');
    const t = range(String(p.target));
    const pub = p.published === undefined ? undefined : range(String(p.published));
    if (!t || t[0] !== t[1] || (p.published !== undefined && (!pub || pub[0] !== pub[1]))) {
      refuse(ctx, path, 'target and published must be port numbers (1-65535)');
      return [];
    }
    return [{ target: t[0], published: pub?.[0], protocol: proto }];
  }
  let s = String(p);
  let protocol: 'TCP' | 'UDP' = 'TCP';
  const slash = s.lastIndexOf('/');
  if (slash >= 0) {
    const proto = s.slice(slash + 1).toUpperCase();
    if (proto !== 'TCP' && proto !== 'UDP') {
      refuse(ctx, path, `"${p}": protocol ${s.slice(slash + 1)} is not supported: use tcp or udp`);
      return [];
    }
    protocol = proto;
    s = s.slice(0, slash);
  }
  // [HOST_IP:][PUBLISHED:]TARGET; an IPv6 host address is in brackets.
  const parts = s.replace(/^\[[^\]]*\]:/, 'ip:').split(':');
  if (parts.length > 3) {
    refuse(ctx, path, `"${p}" is not a port mapping: use PUBLISHED:TARGET, e.g. "8080:5000"`);
    return [];
  }
  if (parts.length === 3 && parts[0]) warn(ctx, path, `host address ${parts[0]} ignored: the port is published on every node address`);
  const target = range(parts[parts.length - 1]!);
  const pubText = parts.length >= 2 ? parts[parts.length - 2]! : '';
  const published = pubText ? range(pubText) : undefined;
  if (!target || (pubText && !published)) {
    refuse(ctx, path, `"${p}" is not a port mapping: use PUBLISHED:TARGET, e.g. "8080:5000"`);
    return [];
  }
  const n = target[1] - target[0] + 1;
  if (published && published[1] - published[0] + 1 !== n) {
    if (published[0] !== published[1]) {
      refuse(ctx, path, `"${p}": the published range and the target range differ in length`);
      return [];
    }
    // "8000-8010:80" lets Docker pick one free host port of the range; Skiff takes the first.
    warn(ctx, path, `published on ${published[0]} (the first port of the range)`);
    return [{ target: target[0], published: published[0], protocol }];
  }
  const out: PortMapping[] = [];
  for (let i = 0; i < n; i++) out.push({ target: target[0] + i, published: published ? published[0] + i : undefined, protocol });
  return out;
}

export interface ServicePorts {
  /** Container ports (deduplicated, in order): the ClusterIP Service's ports. */
  container: { port: number; protocol: 'TCP' | 'UDP' }[];
  published: PortMapping[];
}

export function servicePorts(ctx: TranslateContext, name: string, svc: ServiceSpec): ServicePorts {
  const base = `services.${name}`;
  const all: PortMapping[] = [];
  (svc.ports ?? []).forEach((p, i) => all.push(...parsePort(ctx, `${base}.ports[${i}]`, p)));
  const unpublished = all.filter((m) => m.published === undefined);
  if (unpublished.length) {
    warn(ctx, `${base}.ports`, `${unpublished.map((m) => m.target).join(', ')} without a published port: Docker picks a random host port; on Skiff reach ${unpublished.length === 1 ? 'it' : 'them'} as ${name}:PORT in the project, or publish with "PUBLISHED:TARGET"`);
  }
  (svc.expose ?? []).forEach((e, i) => {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp))?$/i.exec(String(e));
    const r = m ? range(m[2] ? `${m[1]}-${m[2]}` : m[1]!) : undefined;
    if (!m || !r) {
      refuse(ctx, `${base}.expose[${i}]`, `"${e}" is not a port: use e.g. "3000" or "3000/udp"`);
      return;
    }
    for (let p = r[0]; p <= r[1]; p++) all.push({ target: p, protocol: (m[3] ?? 'tcp').toUpperCase() as 'TCP' | 'UDP' });
  });
  const seen = new Set<string>();
  const container: ServicePorts['container'] = [];
  for (const m of all) {
    const k = `${m.target}/${m.protocol}`;
    if (seen.has(k)) continue;
    seen.add(k);
    container.push({ port: m.target, protocol: m.protocol });
  }
  const pubSeen = new Set<string>();
  const published = all.filter((m) => {
    if (m.published === undefined) return false;
    const k = `${m.published}/${m.protocol}`;
    if (pubSeen.has(k)) {
      refuse(ctx, `${base}.ports`, `port ${k.toLowerCase()} is published twice`);
      return false;
    }
    pubSeen.add(k);
    return true;
  });
  return { container, published };
}

export function portName(port: number, protocol: string): string {
  return `${protocol.toLowerCase()}-${port}`;
}

export function serviceObjects(opts: { name: string; namespace: string; labels: Record<string, string>; selector: Record<string, string>; ports: ServicePorts; headless: boolean }): JsonMap[] {
  const out: JsonMap[] = [];
  const meta = (name: string): JsonMap => ({ name, namespace: opts.namespace, labels: opts.labels });
  const one = opts.ports.container.length === 1;
  if (opts.ports.container.length === 0 || opts.headless) {
    // No known port (Docker lets any port through) or endpoint_mode dnsrr: a headless Service,
    // so the name resolves to the pods themselves.
    out.push({
      apiVersion: 'v1', kind: 'Service', metadata: meta(opts.name),
      spec: {
        clusterIP: 'None', selector: opts.selector,
        ports: opts.ports.container.map((p) => ({ ...(one ? {} : { name: portName(p.port, p.protocol) }), port: p.port, targetPort: p.port, protocol: p.protocol })),
      },
    });
  } else {
    out.push({
      apiVersion: 'v1', kind: 'Service', metadata: meta(opts.name),
      spec: {
        type: 'ClusterIP', selector: opts.selector,
        ports: opts.ports.container.map((p) => ({ ...(one ? {} : { name: portName(p.port, p.protocol) }), port: p.port, targetPort: p.port, protocol: p.protocol })),
      },
    });
  }
  if (opts.ports.published.length) {
    const single = opts.ports.published.length === 1;
    out.push({
      apiVersion: 'v1', kind: 'Service', metadata: meta(`${opts.name}-published`),
      spec: {
        type: 'LoadBalancer', selector: opts.selector,
        ports: opts.ports.published.map((p) => ({ ...(single ? {} : { name: portName(p.published!, p.protocol) }), port: p.published!, targetPort: p.target, protocol: p.protocol })),
      },
    });
  }
  return out;
}
