// Plain-text tables as kubectl prints them: upper-case headers, left-aligned columns separated
// by three spaces, no trailing spaces. The same text goes to a terminal and to a pipe.

import type { Table } from '../../proto/api/columns/row.js';

export type { Row, Table } from '../../proto/api/columns/row.js';

export function formatTable(t: Table, opts: { noHeaders?: boolean } = {}): string {
  const all = opts.noHeaders ? t.rows : [t.headers, ...t.rows];
  if (all.length === 0) return '';
  const widths: number[] = [];
  for (const r of all) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return all
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ').trimEnd())
    .join('\n');
}
