// Choosing a free offset: Kubernetes' bitmap allocator's random-scan strategy. Start at a
// random offset in the dynamic band [band, size), scan forward (wrapping within the band) for
// the first free one; only when the dynamic band is full scan the static band [0, band).
// Pure: the caller passes what is taken and the random source.

export type Random = (n: number) => number;

export const mathRandom: Random = (n) => Math.floor(Math.random() * n);

function scan(lo: number, hi: number, taken: ReadonlySet<number>, random: Random): number | undefined {
  const n = hi - lo;
  if (n <= 0) return undefined;
  const start = random(n);
  for (let i = 0; i < n; i++) {
    const off = lo + ((start + i) % n);
    if (!taken.has(off)) return off;
  }
  return undefined;
}

/** A free offset in [0, size), preferring [band, size); undefined when every offset is taken. */
export function pickFree(size: number, band: number, taken: ReadonlySet<number>, random: Random): number | undefined {
  if (taken.size >= size) {
    // Taken may hold offsets outside the range; only a full count of in-range ones means full.
    let inRange = 0;
    for (const t of taken) if (t >= 0 && t < size) inRange++;
    if (inRange >= size) return undefined;
  }
  return scan(band, size, taken, random) ?? scan(0, Math.min(band, size), taken, random);
}
