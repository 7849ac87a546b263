// Kubernetes' "indexed triggers": per kind, the one field whose equality selectors the API
// server serves from an index rather than a scan: a node agent's spec.nodeName=<node> watch and
// list touch only that node's pods, however many pods the cluster has.
import type { AnyObject, Kind, KindInfo, KindMap } from '../../proto/api/kinds.js';
import type { FieldRequirement } from '../storage/fields.js';
import type { Informer } from '../storage/informer.js';

export interface Trigger {
  field: string;
  /** The field's value, exactly as storage/fields.ts matches selectors against it. */
  value: (o: AnyObject) => string;
}

const TRIGGERS: { [K in Kind]?: { field: string; value: (o: KindMap[K]) => string } } = {
  Pod: { field: 'spec.nodeName', value: (p) => p.spec?.nodeName ?? '' },
};

export function triggerOf(kind: Kind): Trigger | undefined {
  return TRIGGERS[kind] as Trigger | undefined;
}

/** The trigger value a selector pins (any equality on the field will do), or undefined. */
export function pinnedTrigger(kind: Kind, fields: readonly FieldRequirement[]): string | undefined {
  const field = triggerOf(kind)?.field;
  return field === undefined ? undefined : fields.find((r) => r.equal && r.field === field)?.value;
}

/**
 * The cached objects that can match these field requirements: the trigger index's entry when
 * the selector pins the trigger field, else every object (callers still filter).
 */
export function cachedCandidates(inf: Informer<Kind>, info: KindInfo, fields: readonly FieldRequirement[]): AnyObject[] {
  const t = triggerOf(info.kind);
  const pin = pinnedTrigger(info.kind, fields);
  if (!t || pin === undefined) return inf.list();
  const index = `trigger:${t.field}`;
  if (!inf.hasIndex(index)) inf.addIndex(index, (o) => [t.value(o)]);
  return inf.byIndex(index, pin);
}
