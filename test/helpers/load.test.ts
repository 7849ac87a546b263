import { describe, expect, it } from 'vitest';
import { loadTargetAllowed } from './load.js';

describe('loadTargetAllowed', () => {
  it('takes loopback, and the given LAN only', () => {
    expect(loadTargetAllowed('http://127.0.0.1:30080/')).toBe(true);
    expect(loadTargetAllowed('http://10.250.3.2:30080/')).toBe(false);
    expect(loadTargetAllowed('http://10.250.3.2:30080/', '10.250.3.0/24')).toBe(true);
    expect(loadTargetAllowed('http://10.250.4.2:30080/', '10.250.3.0/24')).toBe(false);
    expect(loadTargetAllowed('http://example.com/', '10.250.3.0/24')).toBe(false);
  });
});
