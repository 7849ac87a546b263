// Container log files in the CRI format containerd writes: one record a line,
// "<RFC3339Nano time> <stdout|stderr> <F|P> <text>", where P marks a partial line continued by
// the next record. Reading them back joins partials into whole lines, keeps the last N lines
// and, when following, tails the file as it grows, in bounded chunks whatever the file's size.
import { open, stat, type FileHandle } from 'node:fs/promises';

export interface LogRecord {
  time: string;
  stream: 'stdout' | 'stderr';
  /** False for a P (partial) record. */
  full: boolean;
  text: string;
}

export function parseCriLine(line: string): LogRecord | undefined {
  const a = line.indexOf(' ');
  const b = a < 0 ? -1 : line.indexOf(' ', a + 1);
  if (a <= 0 || b < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = line.slice(b + 1, b + 2);
  if (tag !== 'F' && tag !== 'P') return undefined;
  // The tag may be the end of the line (an empty full line) or be followed by one space.
  if (line.length > b + 2 && line[b + 2] !== ' ') return undefined;
  return { time: line.slice(0, a), stream, full: tag === 'F', text: line.slice(b + 3) };
}

/** Joins records into output lines ("\n"-terminated); partial text waits in `pending`. */
export class LineJoiner {
  private pendingText = '';
  private pendingTime = '';

  constructor(private readonly timestamps: boolean) {}

  push(r: LogRecord): string | undefined {
    if (!this.pendingText) this.pendingTime = r.time;
    this.pendingText += r.text;
    if (!r.full) return undefined;
    const out = this.timestamps ? `${this.pendingTime} ${this.pendingText}\n` : `${this.pendingText}\n`;
    this.pendingText = '';
    return out;
  }
}

/** Output lines of a whole CRI log text; lines that are not CRI records pass through as they are. */
export function criToLines(content: string, timestamps: boolean): string[] {
  const j = new LineJoiner(timestamps);
  const out: string[] = [];
  for (const raw of content.split('\n')) {
    if (!raw) continue;
    const r = parseCriLine(raw);
    if (!r) {
      out.push(`${raw}\n`);
      continue;
    }
    const line = j.push(r);
    if (line !== undefined) out.push(line);
  }
  return out;
}

/** The last n lines (all when n < 0). */
export function tail<T>(lines: T[], n: number): T[] {
  if (n < 0) return lines;
  if (n === 0) return [];
  return lines.slice(-n);
}

export interface FollowOptions {
  timestamps: boolean;
  tailLines: number;
  follow: boolean;
  signal: AbortSignal;
  /** Poll interval while following. */
  pollMs?: number;
  /** Stops following when this resolves to true (the container has exited). */
  done?: () => boolean;
}

/** Bytes read at a time: what a log request holds in memory, whatever the file's size. */
export const LOG_CHUNK_BYTES = 64 * 1024;

type Emit = (lines: string[]) => void | Promise<void>;

/** Turns appended bytes into output lines, keeping a cut record and partial text for later. */
class LogDecoder {
  private carry = Buffer.alloc(0);
  private readonly joiner: LineJoiner;

  constructor(timestamps: boolean) {
    this.joiner = new LineJoiner(timestamps);
  }

  push(chunk: Buffer): string[] {
    const all = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const end = all.lastIndexOf(0x0a) + 1;
    this.carry = Buffer.from(all.subarray(end));
    const out: string[] = [];
    for (const raw of all.subarray(0, end).toString('utf8').split('\n')) {
      if (!raw) continue;
      const r = parseCriLine(raw);
      if (!r) out.push(`${raw}\n`);
      else {
        const l = this.joiner.push(r);
        if (l !== undefined) out.push(l);
      }
    }
    return out;
  }
}

/**
 * Where the last n output lines start: reads backwards a chunk at a time until the region after
 * the first whole record holds more than n lines (the first may be the cut end of a longer
 * one), so memory grows with n, not with the file.
 */
async function tailStart(fh: FileHandle, size: number, n: number, timestamps: boolean): Promise<{ offset: number; skip: number }> {
  let start = size;
  let region = Buffer.alloc(0);
  while (start > 0) {
    const len = Math.min(LOG_CHUNK_BYTES, start);
    start -= len;
    const chunk = Buffer.alloc(len);
    await fh.read(chunk, 0, len, start);
    region = Buffer.concat([chunk, region]);
    // Not at the file's start: the first line may be cut; count from the next whole record.
    const from = start === 0 ? 0 : region.indexOf(0x0a) + 1;
    // A record still being written (no newline yet) is not a line yet.
    const end = region.lastIndexOf(0x0a) + 1;
    const lines = end > from ? criToLines(region.subarray(from, end).toString('utf8'), timestamps).length : 0;
    if (lines > n) return { offset: start + from, skip: lines - n };
  }
  const end = region.lastIndexOf(0x0a) + 1;
  return { offset: 0, skip: Math.max(0, criToLines(region.subarray(0, end).toString('utf8'), timestamps).length - n) };
}

/**
 * Streams a log file's lines to emit: first the tail (tailLines < 0: all of it), then, following,
 * whatever is appended, also across a rotation (the path renamed away and a new file opened).
 * Reads at most LOG_CHUNK_BYTES at a time and waits for emit, so a slow reader holds back the
 * reading instead of the agent buffering the file.
 */
export async function streamLog(path: string, o: FollowOptions, emit: Emit): Promise<void> {
  let fh = await open(path, 'r');
  try {
    let { size, ino } = await fh.stat();
    let offset = 0;
    let skip = 0;
    if (o.tailLines >= 0) ({ offset, skip } = await tailStart(fh, size, o.tailLines, o.timestamps));
    let decoder = new LogDecoder(o.timestamps);
    const drain = async (to: number): Promise<void> => {
      while (offset < to && !o.signal.aborted) {
        const chunk = Buffer.alloc(Math.min(LOG_CHUNK_BYTES, to - offset));
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, offset);
        if (bytesRead === 0) return;
        offset += bytesRead;
        let lines = decoder.push(chunk.subarray(0, bytesRead));
        if (skip > 0) {
          const dropped = Math.min(skip, lines.length);
          lines = lines.slice(dropped);
          skip -= dropped;
        }
        if (lines.length) await emit(lines);
      }
    };
    await drain(size);
    if (!o.follow) return;
    while (!o.signal.aborted) {
      // Missing for a moment while a rotation renames it away and opens the next file.
      const st = await stat(path).catch(() => undefined);
      ({ size } = await fh.stat());
      if (size > offset) {
        await drain(size);
        continue;
      }
      if (st && st.ino !== ino) {
        // Rotated: the old file is read to its end above; go on with the new one from its start.
        await fh.close();
        fh = await open(path, 'r');
        ({ ino } = await fh.stat());
        offset = 0;
        decoder = new LogDecoder(o.timestamps);
        continue;
      }
      if (o.done?.()) return;
      await new Promise<void>((r) => {
        const t = setTimeout(r, o.pollMs ?? 250);
        o.signal.addEventListener('abort', () => {
          clearTimeout(t);
          r();
        }, { once: true });
      });
    }
  } finally {
    await fh.close();
  }
}
