import { describe, expect, it } from 'vitest';
import { execOnce, programOf, shellWords, statements } from './program.js';

describe('fake program parser', () => {
  it.each([
    ['echo a b', ['echo', 'a', 'b']],
    [`trap "" TERM`, ['trap', '', 'TERM']],
    [`trap 'exit 0' TERM INT`, ['trap', 'exit 0', 'TERM', 'INT']],
    [`echo "a \\"b\\"" c\\ d`, ['echo', 'a "b"', 'c d']],
  ])('splits %s into words', (line, words) => {
    expect(shellWords(line)).toEqual(words);
  });

  it('splits statements outside quotes only', () => {
    expect(statements(`echo "a;b"; sleep 1 && exit 2\nexit 3`)).toEqual(['echo "a;b"', 'sleep 1', 'exit 2', 'exit 3']);
  });

  it.each([
    ['exit code', ['sh', '-c', 'exit 3'], [{ kind: 'exit', code: 3 }], { ignore: true }],
    ['sleep then exit', ['sh', '-c', 'sleep 0.5; exit 0'], [{ kind: 'sleep', ms: 500 }, { kind: 'exit', code: 0 }], { ignore: true }],
    ['a loop runs forever', ['sh', '-c', 'while true; do sleep 1; done'], [{ kind: 'forever' }], { ignore: true }],
    ['sleep infinity', ['sleep', 'infinity'], [{ kind: 'forever' }], { ignore: true }],
    ['a server binary', ['/bin/httpd', '-f'], [{ kind: 'forever' }], { ignore: true }],
    ['false exits 1', ['false'], [{ kind: 'exit', code: 1 }], { ignore: true }],
  ])('%s', (_name, argv, steps, onTerm) => {
    const p = programOf(argv, {});
    expect(p.steps).toEqual(steps);
    expect(p.onTerm).toEqual(onTerm);
  });

  it('keeps traps, output and env expansion in order', () => {
    const p = programOf(['sh', '-c', 'trap "exit 7" TERM; echo "hi $WHO" ${MISSING-def}; echo err >&2; sleep 2; exit 1; echo never'], { WHO: 'you' });
    expect(p.steps).toEqual([
      { kind: 'trap', onTerm: { exit: 7 } },
      { kind: 'out', stream: 'stdout', text: 'hi you def\n' },
      { kind: 'out', stream: 'stderr', text: 'err\n' },
      { kind: 'sleep', ms: 2000 },
      { kind: 'exit', code: 1 },
    ]);
  });

  it('runs exec commands against the container context', () => {
    const ctx = { env: { A: '1', B: 'two words' }, workingDir: '/srv', cmdline: ['sleep', '1000'], hostname: 'pod-1' };
    expect(execOnce(['env'], ctx).stdout).toBe('A=1\nB=two words\n');
    expect(execOnce(['printenv', 'B'], ctx)).toMatchObject({ exitCode: 0, stdout: 'two words\n' });
    expect(execOnce(['printenv', 'C'], ctx).exitCode).toBe(1);
    expect(execOnce(['pwd'], ctx).stdout).toBe('/srv\n');
    expect(execOnce(['hostname'], ctx).stdout).toBe('pod-1\n');
    expect(execOnce(['cat', '/proc/1/cmdline'], ctx).stdout).toBe('sleep\u00001000\u0000');
    expect(execOnce(['sh', '-c', 'echo $A; pwd; echo e >&2; exit 5'], ctx)).toEqual({ exitCode: 5, stdout: '1\n/srv\n', stderr: 'e\n' });
    expect(execOnce(['sh', '-c', 'true'], ctx).exitCode).toBe(0);
    expect(execOnce(['nope'], ctx)).toMatchObject({ exitCode: 127, stderr: 'nope: not found\n' });
  });
});
