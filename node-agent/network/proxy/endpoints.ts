// Which endpoints of a service port the proxy sends new connections to: Kubernetes' rule is the
// ready ones, and only when none is ready the ones still serving while terminating (so a
// service whose every pod is shutting down keeps answering until they stop).
import { isIPv4 } from 'node:net';
import type { EndpointInfo } from '../snapshot.js';

export function usableEndpoints(all: readonly EndpointInfo[]): EndpointInfo[] {
  const valid = all.filter((e) => isIPv4(e.address) && Number.isInteger(e.port) && e.port > 0 && e.port < 65536);
  const ready = valid.filter((e) => e.ready);
  const chosen = ready.length > 0 ? ready : valid.filter((e) => e.serving && e.terminating);
  // One chain per ip:port (the same pod may appear in two slices during an update), in a
  // stable order so the generated text only changes when the set does.
  const seen = new Map<string, EndpointInfo>();
  for (const e of chosen) seen.set(`${e.address}:${e.port}`, e);
  return [...seen.values()].sort((a, b) => compareIPv4(a.address, b.address) || a.port - b.port);
}

export function compareIPv4(a: string, b: string): number {
  return ipv4ToInt(a) - ipv4ToInt(b);
}

export function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
