import { describe, expect, it } from 'vitest';
import { masqueradeScript, removeTableScript } from './masquerade.js';

describe('masquerade script', () => {
  it('replaces the whole table in one transaction', () => {
    expect(masqueradeScript('skiff-nat', '10.244.0.0/16')).toBe(
      'add table ip skiff-nat\n' +
        'delete table ip skiff-nat\n' +
        'table ip skiff-nat {\n' +
        '\tchain postrouting {\n' +
        '\t\ttype nat hook postrouting priority srcnat; policy accept;\n' +
        '\t\tip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 ip daddr != 224.0.0.0/4 counter masquerade\n' +
        '\t}\n' +
        '}\n',
    );
    expect(removeTableScript('skiff-nat')).toBe('add table ip skiff-nat\ndelete table ip skiff-nat\n');
  });

  it('refuses a bad range or table name', () => {
    expect(() => masqueradeScript('skiff-nat', '10.244.0.1/16')).toThrow(/host bits set/);
    expect(() => masqueradeScript('x; flush ruleset', '10.244.0.0/16')).toThrow(/nft table name/);
  });
});
