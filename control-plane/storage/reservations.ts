// Keys an object holds exclusively besides its own: a Service's ClusterIP and NodePorts. Each
// is one etcd key under <prefix>/allocations/, created (must not exist) in the same transaction
// as the object that takes it and deleted in the same transaction as the object that gives it
// up, so two objects can never hold one value, whichever API server process writes them.
// (Kubernetes keeps a bitmap per range in etcd behind a CAS; one key per value gives the same
// guarantee and lets independent allocations commit without contending on one key.)
import type { AnyObject, Kind } from '../../proto/api/kinds.js';
import type { Service } from '../../proto/gen/skiff/v1/core.js';

export interface Reservation {
  /** Key relative to <prefix>/allocations/. */
  key: string;
  /** The field that holds the value, for the Invalid error when it is taken. */
  field: string;
  /** The value as the error shows it: "10.96.0.10" or 30080. */
  shown: string;
  what: 'IP' | 'port';
}

export const SERVICE_IPS = 'services/clusterips/';
export const SERVICE_NODE_PORTS = 'services/nodeports/';

function serviceReservations(s: Service): Reservation[] {
  const out: Reservation[] = [];
  const spec = s.spec;
  if (!spec) return out;
  const ips = spec.clusterIPs.length ? spec.clusterIPs : [spec.clusterIP];
  ips.forEach((ip, i) => {
    if (ip && ip !== 'None') {
      out.push({ key: `${SERVICE_IPS}${ip}`, field: i === 0 ? 'spec.clusterIP' : `spec.clusterIPs[${i}]`, shown: `"${ip}"`, what: 'IP' });
    }
  });
  const seen = new Set<number>();
  spec.ports.forEach((p, i) => {
    // One service may use one node port for a TCP and a UDP port (Kubernetes allows it).
    if (p.nodePort === 0 || seen.has(p.nodePort)) return;
    seen.add(p.nodePort);
    out.push({ key: `${SERVICE_NODE_PORTS}${p.nodePort}`, field: `spec.ports[${i}].nodePort`, shown: String(p.nodePort), what: 'port' });
  });
  return out;
}

export function reservationsOf(kind: Kind, o: AnyObject): Reservation[] {
  return kind === 'Service' ? serviceReservations(o as Service) : [];
}

/** Whether objects of this kind may hold reservations (their writes bypass group commit). */
export function hasReservations(kind: Kind): boolean {
  return kind === 'Service';
}

/** Reservations in next that current does not hold (to create) and the reverse (to delete). */
export function reservationDiff(kind: Kind, next: AnyObject, current: AnyObject): { add: Reservation[]; remove: Reservation[] } {
  const a = reservationsOf(kind, next);
  const b = reservationsOf(kind, current);
  const had = new Set(b.map((r) => r.key));
  const has = new Set(a.map((r) => r.key));
  return { add: a.filter((r) => !had.has(r.key)), remove: b.filter((r) => !has.has(r.key)) };
}

export function takenMessage(r: Reservation): string {
  return `Invalid value: ${r.shown}: provided ${r.what} is already allocated`;
}
