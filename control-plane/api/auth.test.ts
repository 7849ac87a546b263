import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS, authenticate, parseTokens } from './auth.js';

const md = (v?: string): Metadata => {
  const m = new Metadata();
  if (v !== undefined) m.set('authorization', v);
  return m;
};

describe('auth', () => {
  const tokens = parseTokens('# comment\n\nabc,alice\n  def  \nghi,bob,1001,"dev,ops"\n');
  it('parses Kubernetes static token file lines', () => {
    expect([...tokens]).toEqual([
      ['abc', { name: 'alice', groups: ['system:authenticated'] }],
      ['def', { name: 'token-user', groups: ['system:authenticated'] }],
      ['ghi', { name: 'bob', groups: ['dev', 'ops', 'system:authenticated'] }],
    ]);
  });
  it.each([
    [undefined, 'Unauthorized'],
    ['abc', 'Unauthorized'],
    ['Bearer nope', 'Unauthorized'],
    ['Bearer abc', 'alice'],
    ['bearer def', 'token-user'],
  ])('%j -> %s', (header, want) => {
    let got: string;
    try {
      got = authenticate(md(header), tokens).name;
    } catch (e) {
      got = (e as { code: string }).code;
    }
    expect(got).toBe(want);
  });
  it('lets everyone in when there are no tokens', () => {
    expect(authenticate(md(), undefined)).toBe(ANONYMOUS);
  });
});
