import { describe, expect, it } from 'vitest';
import { ApiError } from '../../proto/api/errors.js';
import { interpolate, interpolateTree, InterpolationError } from './interpolate.js';
import { parseDotenv } from './dotenv.js';

const env: Record<string, string> = { SET: 'value', EMPTY: '', PORT: '8080' };
const lookup = (n: string): string | undefined => env[n];

describe('interpolate', () => {
  it.each([
    ['plain text', 'abc', 'abc', []],
    ['$VAR', 'x$SET-y', 'xvalue-y', []],
    ['${VAR}', '${SET}y', 'valuey', []],
    ['unset becomes empty and is reported', 'a${NOPE}b', 'ab', ['NOPE']],
    ['$$ is a literal $', 'echo $$HOME $${SET}', 'echo $HOME ${SET}', []],
    ['${VAR:-default} when unset', '${NOPE:-dflt}', 'dflt', []],
    ['${VAR:-default} when empty', '${EMPTY:-dflt}', 'dflt', []],
    ['${VAR:-default} when set', '${SET:-dflt}', 'value', []],
    ['${VAR-default} when unset', '${NOPE-dflt}', 'dflt', []],
    ['${VAR-default} keeps an empty value', '${EMPTY-dflt}', '', []],
    ['${VAR:+alt} when set', '${SET:+alt}', 'alt', []],
    ['${VAR:+alt} when empty', '${EMPTY:+alt}', '', []],
    ['${VAR+alt} when empty but set', '${EMPTY+alt}', 'alt', []],
    ['nested default', '${NOPE:-${PORT}}', '8080', []],
    ['nested default unset', '${NOPE:-${ALSO_NOPE}}', '', ['ALSO_NOPE']],
    ['ports', '${PORT}:5000', '8080:5000', []],
    ['a lone $', 'cost $ 5', 'cost $ 5', []],
  ])('%s', (_n, input, want, unset) => {
    const r = interpolate(input, lookup);
    expect(r.value).toBe(want);
    expect(r.unset).toEqual(unset);
  });

  it.each([
    ['${NOPE:?need it}', 'required variable NOPE is missing a value: need it'],
    ['${EMPTY:?need it}', 'required variable EMPTY is missing a value: need it'],
    ['${NOPE?need it}', 'required variable NOPE is missing a value: need it'],
    ['${SET', 'no closing "}"'],
    ['${}', 'needs a variable name'],
    ['${SET!x}', 'unexpected "!x"'],
  ])('%s fails', (input, msg) => {
    expect(() => interpolate(input, lookup)).toThrow(InterpolationError);
    expect(() => interpolate(input, lookup)).toThrow(msg);
  });

  it('${EMPTY?err} does not fail: the variable is set', () => {
    expect(interpolate('${EMPTY?err}', lookup).value).toBe('');
  });
});

describe('interpolateTree', () => {
  it('interpolates values, not keys, and names the path of a failure', () => {
    const r = interpolateTree({ services: { web: { image: 'r/${SET}', ports: ['${PORT}:80'], $SET: 1 } } }, lookup, 'compose.yaml');
    expect(r.value).toEqual({ services: { web: { image: 'r/value', ports: ['8080:80'], $SET: 1 } } });
    try {
      interpolateTree({ services: { web: { environment: ['A=${NOPE:?set NOPE}'] } } }, lookup, 'compose.yaml');
      throw new Error('expected a failure');
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).message).toBe('compose.yaml: services.web.environment[0]: required variable NOPE is missing a value: set NOPE');
    }
  });
});

describe('parseDotenv', () => {
  it('reads Compose .env syntax', () => {
    const text = [
      '# comment',
      'A=1',
      'export B=two words # comment',
      "C='literal ${A} # not a comment'",
      'D="line\\nnext ${A}"',
      'E=${A}-${HOME_X:-h}',
      'F=',
      'G',
      'H="multi',
      'line"',
    ].join('\n');
    const m = parseDotenv(text, '.env', (n) => (n === 'G' ? 'from-env' : undefined));
    expect(Object.fromEntries(m)).toEqual({
      A: '1', B: 'two words', C: 'literal ${A} # not a comment', D: 'line\nnext 1', E: '1-h', F: '', G: 'from-env', H: 'multi\nline',
    });
  });

  it('names the file and line of a bad name', () => {
    expect(() => parseDotenv('OK=1\n9BAD=2', 'app.env')).toThrow('app.env:2: invalid variable name "9BAD"');
  });
});
