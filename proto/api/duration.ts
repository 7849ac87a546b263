// Go-style durations as kubectl and kube-controller-manager flags take them: "30s", "5m",
// "1h30m", "250ms", "0", "8760h". Shared by the CLI and the control plane.
import { errors } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration flag; a bare number means seconds. */
export function parseDuration(text: string, flag = 'duration'): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of t.matchAll(re)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1000);
    consumed += m[0].length;
  }
  if (consumed !== t.length || t.length === 0) {
    throw errors.badRequest(`invalid ${flag} "${text}": use a duration like 30s, 5m or 1h30m`);
  }
  return Math.round(total);
}
