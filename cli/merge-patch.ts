// RFC 7386 merge patches computed from two JSON documents, so that applying the patch to
// `before` yields exactly `after` (keys missing from `after` become null). `rollout undo` uses
// it to replace a pod template while still sending a merge patch.
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function equal(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The merge patch turning `before` into `after`; undefined when they are equal. */
export function mergePatchDiff(before: Json | undefined, after: Json): Json | undefined {
  if (!isObject(before) || !isObject(after)) return equal(before, after) ? undefined : after;
  const patch: { [k: string]: Json } = {};
  for (const k of Object.keys(before)) if (!(k in after)) patch[k] = null;
  for (const [k, v] of Object.entries(after)) {
    const b = before[k];
    if (isObject(v) && isObject(b)) {
      const sub = mergePatchDiff(b, v);
      if (sub !== undefined) patch[k] = sub;
    } else if (!equal(b, v)) patch[k] = v;
  }
  return Object.keys(patch).length ? patch : undefined;
}

/** Applies an RFC 7386 merge patch (used in tests and to preview changes). */
export function applyMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: { [k: string]: Json } = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}
