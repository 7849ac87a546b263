// One table as `skiff get` and the REST API's Table responses carry it: headers and rows of cells.

/** One table row: a cell per column. */
export type Row = string[];

export interface Table {
  headers: string[];
  rows: Row[];
}
