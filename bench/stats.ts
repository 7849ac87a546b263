// Small measuring tools shared by the scenarios: percentiles, /proc readings, Prometheus text
// parsing (etcd's and the control plane's /metrics) and histogram quantiles from bucket deltas.
import { readFile } from 'node:fs/promises';
import { httpsFetch } from '../test/helpers/https.js';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

export interface Summary { count: number; p50: number; p90: number; p99: number; max: number }

export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x * 10) / 10;
  return { count: s.length, p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), max: r(s[s.length - 1] ?? NaN) };
}

const CLK_TCK = 100; // USER_HZ on Linux; /proc/<pid>/stat counts in these ticks.

export interface ProcUsage { rssMB: number; peakRssMB: number; cpuSeconds: number }

/** RSS (now and peak) and user+system CPU seconds of a process, from /proc. */
export async function procUsage(pid: number): Promise<ProcUsage> {
  const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')]);
  // Fields after the ")" closing the command name; utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMB: round1(kb('VmRSS') / 1024), peakRssMB: round1(kb('VmHWM') / 1024), cpuSeconds: round1(cpuSeconds) };
}

/** user+system CPU of a process in ms (10 ms ticks), unrounded: for CPU-ms per pod. */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / CLK_TCK;
}

export const round1 = (x: number): number => Math.round(x * 10) / 10;
export const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** One sample of Prometheus text format: name, labels, value. */
export interface Sample { name: string; labels: Record<string, string>; value: number }

export function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    out.push({ name: m[1] ?? '', labels, value: Number(m[4]) });
  }
  return out;
}

/** A plain-HTTP /metrics (etcd's) or an HTTPS one served with the test CA's certificate (the control plane's). */
export async function scrape(url: string): Promise<Sample[]> {
  if (url.startsWith('https:')) {
    const res = await httpsFetch(url);
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
    return parseProm(res.text);
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return parseProm(await res.text());
}

export function sumOf(samples: readonly Sample[], name: string, where: (l: Record<string, string>) => boolean = () => true): number {
  let s = 0;
  for (const x of samples) if (x.name === name && where(x.labels)) s += x.value;
  return s;
}

/**
 * Quantiles of a histogram's change between two scrapes (cumulative "le" buckets summed over the
 * series that `where` keeps). Answers the upper bound of the bucket holding the quantile, as
 * Prometheus bucket resolution allows no better; Infinity when it lies past the last bound.
 */
export function histogramQuantiles(
  before: readonly Sample[], after: readonly Sample[], name: string, where: (l: Record<string, string>) => boolean, qs: number[],
): { count: number; quantilesMs: Record<string, number> } {
  const buckets = (s: readonly Sample[]): Map<number, number> => {
    const m = new Map<number, number>();
    for (const x of s) {
      if (x.name !== `${name}_bucket` || !where(x.labels)) continue;
      const le = x.labels.le === '+Inf' ? Infinity : Number(x.labels.le);
      m.set(le, (m.get(le) ?? 0) + x.value);
    }
    return m;
  };
  const b0 = buckets(before);
  const b1 = buckets(after);
  const les = [...b1.keys()].sort((a, b) => a - b);
  const total = (b1.get(Infinity) ?? 0) - (b0.get(Infinity) ?? 0);
  const quantilesMs: Record<string, number> = {};
  for (const q of qs) {
    const want = q * total;
    const le = les.find((l) => (b1.get(l) ?? 0) - (b0.get(l) ?? 0) >= want && total > 0);
    quantilesMs[`p${Math.round(q * 100)}`] = le === undefined ? NaN : le === Infinity ? Infinity : le * 1000;
  }
  return { count: total, quantilesMs };
}
