import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { authenticate, parseTokens } from './auth.js';

const md = (v?: string): Metadata => {
  const m = new Metadata();
  if (v !== undefined) m.set('authorization', v);
  return m;
};

describe('auth', () => {
  const tokens = parseTokens('# comment\n\nabc,alice\n  def  \n');
  it('parses "token" and "token,user" lines', () => {
    expect([...tokens]).toEqual([['abc', 'alice'], ['def', 'token-user']]);
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
      got = authenticate(md(header), tokens);
    } catch (e) {
      got = (e as { code: string }).code;
    }
    expect(got).toBe(want);
  });
  it('lets everyone in when there are no tokens', () => {
    expect(authenticate(md(), undefined)).toBe('anonymous');
  });
});
