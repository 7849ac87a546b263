// Kubernetes resource quantities ("100m", "1.5", "128Mi", "1G") as the numbers the runtime takes.

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The value of a quantity in base units; undefined when it is not a quantity. */
export function parseQuantity(q: string): number | undefined {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/.exec(q.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? '';
  return n * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
}

/** CPU in millicores (0 when unset or unparsable). */
export function cpuMillis(q: string | undefined): number {
  const v = q ? parseQuantity(q) : undefined;
  return v === undefined ? 0 : Math.ceil(v * 1000);
}

/** Memory in bytes (0 when unset or unparsable). */
export function memoryBytes(q: string | undefined): number {
  const v = q ? parseQuantity(q) : undefined;
  return v === undefined ? 0 : Math.ceil(v);
}
