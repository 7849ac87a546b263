// The edge of Service allocation: reads which ClusterIPs and NodePorts are reserved in etcd,
// runs the pure allocator (service.ts) and raises its causes as one Invalid error. The write
// that follows takes the values in its own transaction (storage/reservations.ts); when another
// writer got one of the values this call chose itself first, the caller picks again.
import { errors } from '../../../proto/api/errors.js';
import type { AnyObject, KindInfo } from '../../../proto/api/kinds.js';
import type { Service } from '../../../proto/gen/skiff/v1/core.js';
import { SERVICE_IPS, SERVICE_NODE_PORTS } from '../../storage/reservations.js';
import { ReservationTakenError, type Store } from '../../storage/store.js';
import { mathRandom, type Random } from './pick.js';
import { ipOffset, portOffset, type ServiceRanges } from './ranges.js';
import { allocateService, type Taken } from './service.js';

/** Values chosen earlier in the same request (one apply of several Services). */
export interface Pending {
  ips: Set<number>;
  ports: Set<number>;
}

export const newPending = (): Pending => ({ ips: new Set(), ports: new Set() });

export async function readTaken(store: Store, ranges: ServiceRanges, pending?: Pending): Promise<Taken> {
  const [ips, ports] = await Promise.all([store.reserved(SERVICE_IPS), store.reserved(SERVICE_NODE_PORTS)]);
  const ipSet = new Set(pending?.ips);
  const portSet = new Set(pending?.ports);
  for (const ip of ips) {
    const off = ipOffset(ranges.clusterIPs, ip);
    if (off !== undefined) ipSet.add(off);
  }
  for (const p of ports) {
    const off = portOffset(ranges.nodePorts, Number(p));
    if (off !== undefined) portSet.add(off);
  }
  return { ips: ipSet, ports: portSet };
}

/**
 * Fills and checks a Service's ClusterIP and NodePorts (no-op for other kinds). Returns the
 * fields it filled itself; throws Invalid for a chosen value out of range or taken.
 */
export async function allocate(
  store: Store,
  ranges: ServiceRanges,
  info: KindInfo,
  o: AnyObject,
  old: AnyObject | undefined,
  source = '',
  pending?: Pending,
  random: Random = mathRandom,
): Promise<string[]> {
  if (info.kind !== 'Service') return [];
  const svc = o as Service;
  const taken = await readTaken(store, ranges, pending);
  const res = allocateService(svc, old as Service | undefined, ranges, taken, random);
  if (res.causes.length) {
    throw errors.invalid(info.kind, svc.metadata?.name ?? '', res.causes.map((c) => ({ ...c, source })));
  }
  if (pending) {
    const ip = ipOffset(ranges.clusterIPs, svc.spec?.clusterIP ?? '');
    if (ip !== undefined) pending.ips.add(ip);
    for (const p of svc.spec?.ports ?? []) {
      const off = portOffset(ranges.nodePorts, p.nodePort);
      if (off !== undefined) pending.ports.add(off);
    }
  }
  return res.auto;
}

/** Whether a write failed only on values the allocator chose itself (so picking again helps). */
export function onlyAutoTaken(e: unknown, auto: readonly string[]): e is ReservationTakenError {
  return e instanceof ReservationTakenError && auto.length > 0 && e.taken.every((r) => auto.includes(r.field));
}

/** Attempts at picking free values before giving up (each loses only to a concurrent writer). */
export const ALLOCATION_ATTEMPTS = 10;
