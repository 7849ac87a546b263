import { appendFile, mkdtemp, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../test/helpers/wait.js';
import { criToLines, LOG_CHUNK_BYTES, parseCriLine, streamLog, tail } from './logs.js';

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
    const done = streamLog(path, { timestamps: false, tailLines: 2, follow: true, signal: ac.signal, pollMs: 10 }, (l) => {
      got.push(...l);
    });
    await until(() => got.length === 2, 5000, 'tail');
    expect(got).toEqual(['b\n', 'c\n']);
    await appendFile(path, 'T stdout P d');
    await appendFile(path, '1\nT stdout F d2\n');
    await until(() => got.length === 3, 5000, 'follow');
    expect(got[2]).toBe('d1d2\n');
    ac.abort();
    await done;
  });

  it('keeps the last N lines across chunk borders, partial records joined, a record being written left out', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-logs-'));
    const path = join(dir, '0.log');
    const big = 'x'.repeat(LOG_CHUNK_BYTES);
    // Line 3 is one long line in two partial records that straddle a chunk border.
    await writeFile(path, `T stdout F one\nT stdout F two\nT stdout P ${big}\nT stdout F !\nT stderr F four\nT stdout P still-`);
    for (const [n, want] of [[1, ['four\n']], [2, [`${big}!\n`, 'four\n']], [10, ['one\n', 'two\n', `${big}!\n`, 'four\n']], [0, []]] as const) {
      const got: string[] = [];
      await streamLog(path, { timestamps: false, tailLines: n, follow: false, signal: new AbortController().signal }, (l) => {
        got.push(...l);
      });
      expect(got, `tail ${n}`).toEqual(want);
    }
  });

  it('streams a whole log in chunks of at most LOG_CHUNK_BYTES', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-logs-'));
    const path = join(dir, '0.log');
    const lines = Array.from({ length: 5000 }, (_, i) => `2026-01-01T00:00:00Z stdout F line ${i} ${'y'.repeat(50)}\n`);
    await writeFile(path, lines.join(''));
    const batches: string[][] = [];
    await streamLog(path, { timestamps: false, tailLines: -1, follow: false, signal: new AbortController().signal }, (l) => {
      batches.push(l);
    });
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) expect(Buffer.byteLength(b.join(''))).toBeLessThanOrEqual(LOG_CHUNK_BYTES);
    expect(batches.flat()).toEqual(lines.map((_, i) => `line ${i} ${'y'.repeat(50)}\n`));
  });

  it('follows a rotation: reads the old file to its end, then the new one from its start', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-logs-'));
    const path = join(dir, '0.log');
    await writeFile(path, 'T stdout F a\n');
    const got: string[] = [];
    const ac = new AbortController();
    const done = streamLog(path, { timestamps: false, tailLines: -1, follow: true, signal: ac.signal, pollMs: 10 }, (l) => {
      got.push(...l);
    });
    await until(() => got.length === 1, 5000, 'first line');
    await appendFile(path, 'T stdout F b\n');
    await rename(path, `${path}.20260101-000000`);
    await writeFile(path, 'T stdout F c\n');
    await until(() => got.length === 3, 5000, 'lines of both files');
    expect(got).toEqual(['a\n', 'b\n', 'c\n']);
    ac.abort();
    await done;
  });

  it('tails the end of a 100 MB log holding a bounded amount of memory', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-logs-'));
    const path = join(dir, '0.log');
    const line = `2026-01-01T00:00:00.000000000Z stdout F ${'z'.repeat(100)}\n`;
    const block = line.repeat(Math.ceil((1 << 20) / line.length));
    const fh = await open(path, 'w');
    for (let i = 0; i < 100; i++) await fh.write(block);
    await fh.write('2026-01-01T00:00:00Z stdout F the end\n');
    await fh.close();
    expect((await stat(path)).size).toBeGreaterThan(100 << 20);
    const got: string[] = [];
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    await streamLog(path, { timestamps: false, tailLines: 3, follow: false, signal: new AbortController().signal }, (l) => {
      got.push(...l);
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    });
    expect(got).toEqual([`${'z'.repeat(100)}\n`, `${'z'.repeat(100)}\n`, 'the end\n']);
    // Whole-file reading would hold 100 MB of buffers; the tail holds a chunk or two.
    expect(peak - before).toBeLessThan(8 << 20);
  }, 60_000);
});
