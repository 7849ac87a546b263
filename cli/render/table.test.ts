import { describe, expect, it } from 'vitest';
import { formatTable } from './table.js';

describe('formatTable', () => {
  it('aligns columns with three spaces and no trailing blanks', () => {
    const out = formatTable({ headers: ['NAME', 'READY', 'AGE'], rows: [['web-1', '1/1', '5s'], ['a', '0/1', '10m']] });
    expect(out).toBe(['NAME    READY   AGE', 'web-1   1/1     5s', 'a       0/1     10m'].join('\n'));
  });
  it('can leave the headers out', () => {
    expect(formatTable({ headers: ['A', 'B'], rows: [['x', 'y']] }, { noHeaders: true })).toBe('x   y');
  });
});
