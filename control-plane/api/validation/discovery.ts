// EndpointSlice rules (Kubernetes' discovery validation): address type, endpoint and port
// counts, address forms, port names and protocols, and the immutable addressType.
import type { EndpointSlice } from '../../../proto/gen/skiff/v1/discovery.js';
import { parseIPv4 } from '../allocation/ranges.js';
import { Causes } from './causes.js';
import { dns1123Label, dns1123Subdomain } from './names.js';

const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'];
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const MAX_ENDPOINTS = 1000;
const MAX_PORTS = 100;
const MAX_ADDRESSES = 100;

function addressProblem(type: string, a: string): string {
  if (type === 'IPv4') return parseIPv4(a) === undefined ? `Invalid value: "${a}": must be a valid IPv4 address` : '';
  if (type === 'IPv6') return /^[0-9a-fA-F:.]+$/.test(a) && a.includes(':') ? '' : `Invalid value: "${a}": must be a valid IPv6 address`;
  return dns1123Subdomain(a);
}

export function validateEndpointSlice(e: EndpointSlice, c: Causes): void {
  const typeOk = ADDRESS_TYPES.includes(e.addressType);
  if (!e.addressType) c.add('addressType', 'required');
  else if (!typeOk) c.add('addressType', `unsupported value "${e.addressType}": supported values: "IPv4", "IPv6", "FQDN"`);
  if (e.endpoints.length > MAX_ENDPOINTS) c.add('endpoints', `Too many: ${e.endpoints.length}: must have at most ${MAX_ENDPOINTS} items`);
  e.endpoints.forEach((ep, i) => {
    const path = `endpoints[${i}]`;
    if (ep.addresses.length === 0) c.add(`${path}.addresses`, 'required: must contain at least 1 address');
    if (ep.addresses.length > MAX_ADDRESSES) c.add(`${path}.addresses`, `Too many: ${ep.addresses.length}: must have at most ${MAX_ADDRESSES} items`);
    if (typeOk) {
      ep.addresses.forEach((a, j) => {
        const why = addressProblem(e.addressType, a);
        if (why) c.add(`${path}.addresses[${j}]`, why);
      });
    }
    if (ep.hostname !== undefined) {
      const why = dns1123Label(ep.hostname);
      if (why) c.add(`${path}.hostname`, why);
    }
    if (ep.nodeName !== undefined) {
      const why = dns1123Subdomain(ep.nodeName);
      if (why) c.add(`${path}.nodeName`, why);
    }
  });
  if (e.ports.length > MAX_PORTS) c.add('ports', `Too many: ${e.ports.length}: must have at most ${MAX_PORTS} items`);
  const names = new Set<string>();
  e.ports.forEach((p, i) => {
    const path = `ports[${i}]`;
    const name = p.name ?? '';
    if (name) {
      const why = dns1123Label(name);
      if (why) c.add(`${path}.name`, why);
    }
    if (names.has(name)) c.add(`${path}.name`, `Duplicate value: "${name}"`);
    names.add(name);
    if (p.protocol !== undefined && !PROTOCOLS.includes(p.protocol)) {
      c.add(`${path}.protocol`, `unsupported value "${p.protocol}": supported values: "TCP", "UDP", "SCTP"`);
    }
    if (p.port !== undefined && (p.port < 1 || p.port > 65535)) c.add(`${path}.port`, `Invalid value: ${p.port}: must be between 1 and 65535, inclusive`);
  });
}

export function validateEndpointSliceUpdate(next: EndpointSlice, old: EndpointSlice, c: Causes): void {
  if (next.addressType !== old.addressType) c.add('addressType', `Invalid value: "${next.addressType}": field is immutable`);
}
