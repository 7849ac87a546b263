// Pods running over time as a hand-written SVG line chart (no chart library on this machine).
import { writeFile } from 'node:fs/promises';

export interface Series { label: string; points: [number, number][] }

export async function writeSvg(file: string, title: string, series: Series[]): Promise<void> {
  const W = 800, H = 420, L = 70, R = 20, T = 40, B = 50;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xMax = Math.max(1e-9, ...xs);
  const yMax = Math.max(1, ...ys);
  const px = (x: number): number => L + (x / xMax) * (W - L - R);
  const py = (y: number): number => H - B - (y / yMax) * (H - T - B);
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
  const ticks = (max: number): number[] => Array.from({ length: 6 }, (_, i) => (max * i) / 5);
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">seconds since start</text>`,
    `<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">pods running</text>`,
  ];
  for (const t of ticks(xMax)) parts.push(`<text x="${px(t)}" y="${H - B + 16}" text-anchor="middle">${t.toFixed(1)}</text>`);
  for (const t of ticks(yMax)) {
    parts.push(`<text x="${L - 6}" y="${py(t) + 4}" text-anchor="end">${Math.round(t)}</text>`);
    parts.push(`<line x1="${L}" y1="${py(t)}" x2="${W - R}" y2="${py(t)}" stroke="#ddd"/>`);
  }
  series.forEach((s, i) => {
    const c = colors[i % colors.length] ?? 'black';
    const pts = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts}"/>`);
    parts.push(`<text x="${L + 10}" y="${T + 14 + i * 16}" fill="${c}">${esc(s.label)}</text>`);
  });
  parts.push('</svg>');
  await writeFile(file, parts.join('\n') + '\n');
}

/** Step series of a running count from sorted event times (seconds), thinned to ~maxPoints. */
export function runningSeries(times: number[], maxPoints = 600): [number, number][] {
  const s = [...times].sort((a, b) => a - b);
  const step = Math.max(1, Math.floor(s.length / maxPoints));
  const pts: [number, number][] = [[0, 0]];
  for (let i = 0; i < s.length; i += step) pts.push([s[i] ?? 0, i + 1]);
  if (s.length) pts.push([s[s.length - 1] ?? 0, s.length]);
  return pts;
}
