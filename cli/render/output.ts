// Script-facing output (-o json|yaml|name): exactly toManifest's Kubernetes JSON, keys in a
// fixed order, a List wrapping several objects as kubectl does. Nothing here depends on a TTY.
import { stringify } from 'yaml';
import type { AnyObject, KindInfo } from '../../proto/api/kinds.js';
import { toManifest, type JsonObject } from '../../proto/api/manifest.js';
import { displayRef } from '../resources.js';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'name';

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['wide', 'json', 'yaml', 'name'];

export interface Typed {
  info: KindInfo;
  object: AnyObject;
}

export function manifestList(items: readonly Typed[], resourceVersion = ''): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: items.map((i) => toManifest(i.info, i.object)),
    metadata: { resourceVersion },
  };
}

/** YAML as kubectl prints it: block style, sequences not indented under their key, no folding. */
export function toYaml(doc: JsonObject): string {
  return stringify(doc, { indentSeq: false, lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false });
}

export function toJson(doc: JsonObject): string {
  return `${JSON.stringify(doc, null, 4)}\n`;
}

/**
 * Formats objects for -o json|yaml|name. `asList` (a listing, or several names) wraps them in a
 * List; a single `get TYPE NAME` prints the bare object.
 */
export function formatObjects(format: 'json' | 'yaml' | 'name', items: readonly Typed[], asList: boolean): string {
  if (format === 'name') return items.map((i) => `${displayRef(i.info, i.object)}\n`).join('');
  const first = items[0];
  const doc = asList || !first ? manifestList(items) : toManifest(first.info, first.object);
  return format === 'json' ? toJson(doc) : toYaml(doc);
}
