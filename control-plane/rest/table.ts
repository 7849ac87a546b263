// meta.k8s.io/v1 Table responses (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`),
// what `kubectl get` asks for: the same columns `skiff get` prints (proto/api/columns), the
// `-o wide` ones at priority 1; kubectl adds NAMESPACE for -A itself.
import { tableHeaders, tableRow } from '../../proto/api/columns/columns.js';
import { metaOf, type AnyObject, type KindInfo } from '../../proto/api/kinds.js';
import { toManifest, type JsonObject } from '../../proto/api/manifest.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Whether an Accept header asks for a Table (kubectl lists it first, JSON as the fallback). */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  const first = accept.split(',')[0] ?? '';
  const params = first.split(';').map((p) => p.trim());
  return params.includes('as=Table') && params.includes('g=meta.k8s.io') && (params.includes('v=v1') || params.includes('v=v1beta1'));
}

export function tableApiVersion(accept: string | undefined): string {
  return (accept ?? '').split(',')[0]?.includes('v=v1beta1') ? 'meta.k8s.io/v1beta1' : 'meta.k8s.io/v1';
}

function columnDefinitions(info: KindInfo): JsonObject[] {
  const base = tableHeaders(info, { wide: false, withNamespace: false });
  const all = tableHeaders(info, { wide: true, withNamespace: false });
  return all.map((name, i) => ({
    name,
    type: 'string',
    format: name === 'NAME' ? 'name' : '',
    description: '',
    priority: i < base.length ? 0 : 1,
  }));
}

function rowObject(info: KindInfo, o: AnyObject, include: IncludeObject): JsonObject | undefined {
  if (include === 'None') return undefined;
  const full = toManifest(info, o);
  if (include === 'Object') return full;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: full.metadata ?? {} };
}

export function buildTableResponse(
  info: KindInfo,
  objs: readonly AnyObject[],
  opts: { include: IncludeObject; now: number; apiVersion: string; resourceVersion?: string; continueToken?: string; withColumns?: boolean },
): JsonObject {
  const rows = objs.map((o) => {
    const row: JsonObject = { cells: tableRow(info, o, { wide: true, withNamespace: false, now: opts.now }) };
    const obj = rowObject(info, o, opts.include);
    if (obj) row.object = obj;
    return row;
  });
  const metadata: JsonObject = {};
  if (opts.resourceVersion) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continueToken) metadata.continue = opts.continueToken;
  const table: JsonObject = { kind: 'Table', apiVersion: opts.apiVersion, metadata };
  if (opts.withColumns !== false) table.columnDefinitions = columnDefinitions(info);
  table.rows = rows;
  return table;
}

export function resourceVersionOf(o: AnyObject): string {
  return metaOf(o).resourceVersion;
}
