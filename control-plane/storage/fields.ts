// Field selectors ("spec.nodeName=n1,status.phase!=Running"), limited like Kubernetes to the
// fields each kind indexes: metadata.name and metadata.namespace everywhere, plus a few per kind.
import { errors } from '../../proto/api/errors.js';
import type { AnyObject, KindInfo } from '../../proto/api/kinds.js';

export interface FieldRequirement {
  field: string;
  equal: boolean;
  value: string;
}

type Getter = (o: AnyObject) => string;
const COMMON: Record<string, Getter> = {
  'metadata.name': (o) => o.metadata?.name ?? '',
  'metadata.namespace': (o) => o.metadata?.namespace ?? '',
};
const PER_KIND: Record<string, Record<string, Getter>> = {
  Pod: {
    'spec.nodeName': (o) => ('spec' in o && o.spec && 'nodeName' in o.spec ? o.spec.nodeName : ''),
    'status.phase': (o) => ('status' in o && o.status && 'phase' in o.status ? o.status.phase : ''),
  },
  Event: {
    'involvedObject.kind': (o) => ('involvedObject' in o ? (o.involvedObject?.kind ?? '') : ''),
    'involvedObject.name': (o) => ('involvedObject' in o ? (o.involvedObject?.name ?? '') : ''),
    'involvedObject.uid': (o) => ('involvedObject' in o ? (o.involvedObject?.uid ?? '') : ''),
    reason: (o) => ('reason' in o ? o.reason : ''),
    type: (o) => ('type' in o && typeof o.type === 'string' ? o.type : ''),
  },
  Service: {
    'spec.clusterIP': (o) => ('spec' in o && o.spec && 'clusterIP' in o.spec ? o.spec.clusterIP : ''),
    'spec.type': (o) => ('spec' in o && o.spec && 'clusterIP' in o.spec ? o.spec.type : ''),
  },
  Node: {
    'spec.unschedulable': (o) => ('spec' in o && o.spec && 'unschedulable' in o.spec ? String(o.spec.unschedulable) : ''),
  },
};

export function supportedFields(info: KindInfo): string[] {
  return [...Object.keys(COMMON), ...Object.keys(PER_KIND[info.kind] ?? {})];
}

export function parseFieldSelector(info: KindInfo, text: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9.]+)\s*(==|!=|=)\s*(.*)$/.exec(part);
    if (!m) throw errors.badRequest(`invalid field selector "${text}": "${part}" is not field=value or field!=value`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    if (!getter(info, field)) {
      throw errors.badRequest(
        `field selector "${field}" is not supported for ${info.kind}; supported: ${supportedFields(info).join(', ')}`,
      );
    }
    out.push({ field, equal: op !== '!=', value });
  }
  return out;
}

function getter(info: KindInfo, field: string): Getter | undefined {
  return COMMON[field] ?? PER_KIND[info.kind]?.[field];
}

export function fieldsMatch(info: KindInfo, reqs: readonly FieldRequirement[], o: AnyObject): boolean {
  for (const r of reqs) {
    const v = getter(info, r.field)!(o);
    if ((v === r.value) !== r.equal) return false;
  }
  return true;
}
