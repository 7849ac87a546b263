// What a Service write needs from the allocator, as Kubernetes' service REST storage does it:
// keep the values an update left out (patchAllocatedValues), drop node ports when the type
// no longer has them, fill an empty clusterIP and zero nodePorts with free values, and check
// the values a user chose against the ranges. Pure: the taken offsets and the random source
// come in; the store's transaction is what finally guarantees a value is not taken twice.
import type { Service, ServicePort } from '../../../proto/gen/skiff/v1/core.js';
import { ipAt, ipOffset, ipStaticBand, portOffset, portStaticBand, type ServiceRanges } from './ranges.js';
import { pickFree, type Random } from './pick.js';

export interface Taken {
  /** Offsets in the ClusterIP range that are reserved. */
  ips: ReadonlySet<number>;
  /** Offsets in the NodePort range that are reserved. */
  ports: ReadonlySet<number>;
}

export interface AllocationResult {
  causes: { field: string; message: string }[];
  /** Field paths this call filled in itself (free to re-pick when the write finds them taken). */
  auto: string[];
}

export const HEADLESS = 'None';

/** NodePort and LoadBalancer services get node ports (a LoadBalancer is a NodePort service plus its own port on every node). */
export function hasNodePorts(type: string | undefined): boolean {
  return type === 'NodePort' || type === 'LoadBalancer';
}

const samePort = (a: ServicePort, b: ServicePort): boolean => a.port === b.port && a.protocol === b.protocol;

function oldNodePortFor(p: ServicePort, old: Service): number {
  const ports = old.spec?.ports ?? [];
  return (ports.find((o) => samePort(o, p)) ?? ports.find((o) => o.name !== '' && o.name === p.name))?.nodePort ?? 0;
}

/** Carries over what an update or apply did not repeat, and drops node ports a ClusterIP service may not keep. */
export function carryOver(svc: Service, old: Service): void {
  const spec = svc.spec;
  const was = old.spec;
  if (!spec || !was) return;
  if (!spec.clusterIP && spec.clusterIPs.length === 0) {
    spec.clusterIP = was.clusterIP;
    spec.clusterIPs = [...was.clusterIPs];
  }
  if (hasNodePorts(spec.type) && hasNodePorts(was.type)) {
    for (const p of spec.ports) if (p.nodePort === 0) p.nodePort = oldNodePortFor(p, old);
  }
  if (spec.sessionAffinity === 'None' && was.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig
    && JSON.stringify(spec.sessionAffinityConfig) === JSON.stringify(was.sessionAffinityConfig)) {
    // The defaulted timeout goes with the affinity it belonged to.
    spec.sessionAffinityConfig = undefined;
  }
  if (spec.type === 'ClusterIP' && hasNodePorts(was.type)) {
    // Kubernetes' dropTypeDependentFields: node ports the user did not change go with the type.
    for (const p of spec.ports) if (p.nodePort !== 0 && p.nodePort === oldNodePortFor(p, old)) p.nodePort = 0;
    if (spec.externalTrafficPolicy === was.externalTrafficPolicy) spec.externalTrafficPolicy = '';
  }
}

/**
 * Fills and checks the allocated fields of a defaulted, validated Service. old is the stored
 * object on update (its values are neither re-checked nor re-allocated).
 */
export function allocateService(svc: Service, old: Service | undefined, ranges: ServiceRanges, taken: Taken, random: Random): AllocationResult {
  const out: AllocationResult = { causes: [], auto: [] };
  const spec = svc.spec;
  if (!spec) return out;
  const r = ranges.clusterIPs;
  if (spec.clusterIP === '') {
    const off = pickFree(r.size, ipStaticBand(r), taken.ips, random);
    if (off === undefined) {
      out.causes.push({ field: 'spec.clusterIP', message: `Internal error: failed to allocate a serviceIP: range ${r.cidr} is full` });
    } else {
      spec.clusterIP = ipAt(r, off);
      spec.clusterIPs = [spec.clusterIP];
      out.auto.push('spec.clusterIP');
    }
  } else if (spec.clusterIP !== HEADLESS && spec.clusterIP !== old?.spec?.clusterIP) {
    const off = ipOffset(r, spec.clusterIP);
    if (off === undefined) {
      out.causes.push({
        field: 'spec.clusterIP',
        message: `Invalid value: "${spec.clusterIP}": provided IP is not in the valid range. The range of valid IPs is ${r.cidr}`,
      });
    } else if (taken.ips.has(off)) {
      out.causes.push({ field: 'spec.clusterIP', message: `Invalid value: "${spec.clusterIP}": provided IP is already allocated` });
    }
  }
  if (!hasNodePorts(spec.type)) return out;
  const pr = ranges.nodePorts;
  const kept = new Set((hasNodePorts(old?.spec?.type) ? old?.spec?.ports ?? [] : []).map((p) => p.nodePort));
  const mine = new Set<number>();
  spec.ports.forEach((p, i) => {
    const field = `spec.ports[${i}].nodePort`;
    if (p.nodePort !== 0) {
      const off = portOffset(pr, p.nodePort);
      if (off !== undefined) mine.add(off);
      if (kept.has(p.nodePort)) return;
      if (off === undefined) {
        out.causes.push({ field, message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${pr.text}` });
      } else if (taken.ports.has(off)) {
        out.causes.push({ field, message: `Invalid value: ${p.nodePort}: provided port is already allocated` });
      }
    }
  });
  const busy = new Set([...taken.ports, ...mine]);
  spec.ports.forEach((p, i) => {
    if (p.nodePort !== 0) return;
    const off = pickFree(pr.size, portStaticBand(pr), busy, random);
    const field = `spec.ports[${i}].nodePort`;
    if (off === undefined) {
      out.causes.push({ field, message: `Internal error: failed to allocate a nodePort: range ${pr.text} is full` });
      return;
    }
    busy.add(off);
    p.nodePort = pr.base + off;
    out.auto.push(field);
  });
  return out;
}
