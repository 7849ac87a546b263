import { describe, expect, it } from 'vitest';
import { parsePortPair } from './port-forward.js';

describe('parsePortPair (kubectl port-forward forms)', () => {
  it('reads LOCAL:REMOTE, REMOTE and :REMOTE', () => {
    expect(parsePortPair('8080:80')).toEqual({ local: 8080, remote: 80 });
    expect(parsePortPair('5432')).toEqual({ local: 5432, remote: 5432 });
    expect(parsePortPair(':80')).toEqual({ local: 0, remote: 80 });
  });

  it('refuses ports out of range, remote 0 and other shapes', () => {
    for (const bad of ['0', '80:0', '70000', '1:2:3', 'http', '-1:80', '8080:']) {
      expect(() => parsePortPair(bad), bad).toThrow(/invalid/);
    }
  });
});
