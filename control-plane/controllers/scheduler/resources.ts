// What pods ask of nodes and what nodes offer, as plain numbers: cpu in millicores (rounded up,
// as Kubernetes' MilliValue does), memory in bytes, and pod slots. Quantities are parsed by the
// shared parser the API validates with, so the scheduler reads them exactly as validation
// accepted them.
import type { Container, Pod } from '../../../proto/gen/skiff/v1/core.js';
import { errors } from '../../../proto/api/errors.js';
import { parseQuantity as parseApiQuantity, toBytes, toMilli, type Quantity } from '../../../proto/api/quantity.js';

/** The value of a quantity in base units; throws BadRequest on a malformed one. */
export function parseQuantity(q: string): number {
  return toBytes(parsed(q));
}

/** A cpu quantity in millicores, rounded up ("1n" needs 1m, as in Kubernetes). */
export function cpuMillis(q: string): number {
  return toMilli(parsed(q));
}

function parsed(q: string): Quantity {
  try {
    return parseApiQuantity(q);
  } catch (e) {
    throw errors.badRequest(`invalid resource quantity: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** What the scheduler accounts for on a node. */
export interface Resources {
  cpuMillis: number;
  memoryBytes: number;
  pods: number;
}

export const ZERO: Resources = { cpuMillis: 0, memoryBytes: 0, pods: 0 };

export function add(a: Resources, b: Resources): Resources {
  return { cpuMillis: a.cpuMillis + b.cpuMillis, memoryBytes: a.memoryBytes + b.memoryBytes, pods: a.pods + b.pods };
}

function containerRequests(c: Container): Resources {
  const r = c.resources?.requests ?? {};
  return {
    cpuMillis: r.cpu !== undefined ? cpuMillis(r.cpu) : 0,
    memoryBytes: r.memory !== undefined ? parseQuantity(r.memory) : 0,
    pods: 0,
  };
}

// Snapshot objects are the informers' and never change in place (an update replaces them), so
// parsed quantities can be kept per object: a batch over 30,000 bound pods parses none again.
const requestsBySpec = new WeakMap<object, Resources>();
const allocatableByQuantities = new WeakMap<object, Resources>();

/**
 * What a pod asks of its node: the sum of its containers' requests, or the largest init
 * container's if that is more (init containers run one at a time, before the others), plus
 * one pod slot.
 */
export function podRequests(pod: Pod): Resources {
  const spec = pod.spec;
  if (!spec) return computeRequests(pod);
  let r = requestsBySpec.get(spec);
  if (!r) {
    r = computeRequests(pod);
    requestsBySpec.set(spec, r);
  }
  return r;
}

/** Throws BadRequest when a quantity does not parse. */
function computeRequests(pod: Pod): Resources {
  const spec = pod.spec;
  let sum = ZERO;
  for (const c of spec?.containers ?? []) sum = add(sum, containerRequests(c));
  for (const c of spec?.initContainers ?? []) {
    const r = containerRequests(c);
    sum = { cpuMillis: Math.max(sum.cpuMillis, r.cpuMillis), memoryBytes: Math.max(sum.memoryBytes, r.memoryBytes), pods: 0 };
  }
  return { ...sum, pods: 1 };
}

/** Kubernetes' default when a node reports no pod capacity (kubelet --max-pods). */
export const DEFAULT_MAX_PODS = 110;

/** A node's allocatable resources (capacity when allocatable is not reported). */
export function nodeAllocatable(quantities: Record<string, string>): Resources {
  let r = allocatableByQuantities.get(quantities);
  if (!r) {
    r = computeAllocatable(quantities);
    allocatableByQuantities.set(quantities, r);
  }
  return r;
}

function computeAllocatable(quantities: Record<string, string>): Resources {
  return {
    cpuMillis: quantities.cpu !== undefined ? cpuMillis(quantities.cpu) : 0,
    memoryBytes: quantities.memory !== undefined ? parseQuantity(quantities.memory) : 0,
    pods: quantities.pods !== undefined ? Math.floor(parseQuantity(quantities.pods)) : DEFAULT_MAX_PODS,
  };
}
