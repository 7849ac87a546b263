// Container log files in the CRI format containerd writes: one record a line,
// "<RFC3339Nano time> <stdout|stderr> <F|P> <text>", where P marks a partial line continued by
// the next record. Reading them back joins partials into whole lines, keeps the last N lines
// and, when following, tails the file as it grows.
import { open, stat } from 'node:fs/promises';

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

/** Streams a log file's lines to emit: first the tail, then (following) whatever is appended. */
export async function streamLog(path: string, o: FollowOptions, emit: (lines: string[]) => void): Promise<void> {
  const fh = await open(path, 'r');
  try {
    const size = (await stat(path)).size;
    const buf = Buffer.alloc(size);
    if (size > 0) await fh.read(buf, 0, size, 0);
    const text = buf.toString('utf8');
    // Only whole records now; a record still being written is read on the next poll.
    const cut = text.lastIndexOf('\n') + 1;
    const first = tail(criToLines(text.slice(0, cut), o.timestamps), o.tailLines);
    if (first.length) emit(first);
    if (!o.follow) return;
    let offset = Buffer.byteLength(text.slice(0, cut));
    const joiner = new LineJoiner(o.timestamps);
    let carry = '';
    while (!o.signal.aborted) {
      const st = await stat(path).catch(() => undefined);
      if (!st) return;
      if (st.size > offset) {
        const chunk = Buffer.alloc(st.size - offset);
        await fh.read(chunk, 0, chunk.length, offset);
        offset = st.size;
        const all = carry + chunk.toString('utf8');
        const end = all.lastIndexOf('\n') + 1;
        carry = all.slice(end);
        const out: string[] = [];
        for (const raw of all.slice(0, end).split('\n')) {
          if (!raw) continue;
          const r = parseCriLine(raw);
          if (!r) out.push(`${raw}\n`);
          else {
            const l = joiner.push(r);
            if (l !== undefined) out.push(l);
          }
        }
        if (out.length) emit(out);
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
