import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../test/helpers/wait.js';
import { criToLines, parseCriLine, streamLog, tail } from './logs.js';

describe('CRI log lines', () => {
  it('parses full and partial records', () => {
    expect(parseCriLine('2026-01-01T00:00:00.123456789Z stdout F hello world')).toEqual({
      time: '2026-01-01T00:00:00.123456789Z', stream: 'stdout', full: true, text: 'hello world',
    });
    expect(parseCriLine('2026-01-01T00:00:00Z stderr P part')?.full).toBe(false);
    expect(parseCriLine('2026-01-01T00:00:00Z stdout F')?.text).toBe('');
    expect(parseCriLine('garbage')).toBeUndefined();
    expect(parseCriLine('t stdin F x')).toBeUndefined();
  });

  it('joins partials and adds timestamps on request', () => {
    const text = ['T1 stdout P hel', 'T2 stdout F lo', 'T3 stderr F oops', ''].join('\n');
    expect(criToLines(text, false)).toEqual(['hello\n', 'oops\n']);
    expect(criToLines(text, true)).toEqual(['T1 hello\n', 'T3 oops\n']);
  });

  it('keeps the last N lines', () => {
    expect(tail([1, 2, 3], 2)).toEqual([2, 3]);
    expect(tail([1, 2, 3], -1)).toEqual([1, 2, 3]);
    expect(tail([1, 2, 3], 0)).toEqual([]);
  });
});

describe('streamLog', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sends the tail then follows appended records', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-logs-'));
    const path = join(dir, '0.log');
    await writeFile(path, 'T stdout F a\nT stdout F b\nT stdout F c\n');
    const got: string[] = [];
    const ac = new AbortController();
    const done = streamLog(path, { timestamps: false, tailLines: 2, follow: true, signal: ac.signal, pollMs: 10 }, (l) => got.push(...l));
    await until(() => got.length === 2, 5000, 'tail');
    expect(got).toEqual(['b\n', 'c\n']);
    await appendFile(path, 'T stdout P d');
    await appendFile(path, '1\nT stdout F d2\n');
    await until(() => got.length === 3, 5000, 'follow');
    expect(got[2]).toBe('d1d2\n');
    ac.abort();
    await done;
  });
});
