// The three-way merge behind `apply`, on the Kubernetes JSON form, as kubectl's client-side
// apply does it: the new manifest wins for every field it declares; a field the previous
// manifest (the last-applied annotation) declared and the new one no longer does is removed;
// every other live field (status, replicas set by a scale, fields controllers own) is kept.
// Lists are atomic: a declared list replaces the live one (defaults are re-applied after).
import type { JsonObject } from '../../proto/api/manifest.js';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export type Json = JsonObject[string];

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function threeWayMerge(last: Json | undefined, desired: Json, live: Json | undefined): Json {
  if (!isObject(desired) || !isObject(live)) return structuredClone(desired);
  const out: JsonObject = structuredClone(live);
  const prev = isObject(last) ? last : {};
  for (const [k, v] of Object.entries(desired)) {
    if (v === null) delete out[k];
    else out[k] = threeWayMerge(prev[k], v, live[k]);
  }
  for (const k of Object.keys(prev)) if (!(k in desired)) delete out[k];
  return out;
}

/** The manifest as recorded in the annotation: without the annotation itself. */
export function lastAppliedText(desired: JsonObject): string {
  const copy = structuredClone(desired);
  const meta = copy.metadata;
  if (isObject(meta) && isObject(meta.annotations)) {
    delete meta.annotations[LAST_APPLIED];
    if (Object.keys(meta.annotations).length === 0) delete meta.annotations;
  }
  return JSON.stringify(copy);
}

/** The last-applied manifest recorded on a live object, if any and readable. */
export function readLastApplied(live: JsonObject): JsonObject | undefined {
  const meta = live.metadata;
  const text = isObject(meta) && isObject(meta.annotations) ? meta.annotations[LAST_APPLIED] : undefined;
  if (typeof text !== 'string') return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Merges the desired manifest into the live object and records it as last-applied. */
export function mergeApplied(desired: JsonObject, live: JsonObject): JsonObject {
  const merged = threeWayMerge(readLastApplied(live), desired, live) as JsonObject;
  const meta = (isObject(merged.metadata) ? merged.metadata : (merged.metadata = {}));
  const ann = (isObject(meta.annotations) ? meta.annotations : (meta.annotations = {}));
  ann[LAST_APPLIED] = lastAppliedText(desired);
  return merged;
}
