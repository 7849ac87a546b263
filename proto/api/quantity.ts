// Kubernetes resource quantities ("100m", "128Mi", "1Gi", "0.5", "1e3"), parsed the way
// Kubernetes reads them. The API validates requests and limits with this, the scheduler sums
// them in milli-CPU and bytes, and the node agent hands them to the runtime: one parser, so all
// three read a quantity alike.
export interface Quantity {
  /** The value in base units (cores, bytes, ...), possibly fractional. */
  value: number;
  text: string;
}

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

const FORM = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

export class QuantityError extends Error {}

/** Parses a quantity; throws QuantityError with a message fit for a FieldCause. */
export function parseQuantity(text: string): Quantity {
  const m = FORM.exec(text.trim() === text ? text : '');
  if (!m) {
    throw new QuantityError(
      `"${text}" is not a quantity: use a number with an optional suffix, e.g. "100m", "0.5", "128Mi", "1Gi", "1e3"`,
    );
  }
  const [, num, exp, suffix] = m as unknown as [string, string, string | undefined, string | undefined];
  const base = Number(num);
  const value = exp !== undefined ? base * 10 ** Number(exp.slice(1)) : base * (SUFFIX[suffix ?? ''] ?? 1);
  if (!Number.isFinite(value)) throw new QuantityError(`"${text}" is too large`);
  return { value, text };
}

/** CPU in milli-cores, rounded up like Kubernetes' MilliValue (1 core = 1000). */
export function toMilli(q: Quantity | string): number {
  const v = typeof q === 'string' ? parseQuantity(q).value : q.value;
  return Math.ceil(Math.round(v * 1e9) / 1e6);
}

/** Memory and other byte counts, rounded up like Kubernetes' Value. */
export function toBytes(q: Quantity | string): number {
  const v = typeof q === 'string' ? parseQuantity(q).value : q.value;
  return Math.ceil(Math.round(v * 1e6) / 1e6);
}

/** CPU in milli-cores for the runtime: 0 when unset or not a quantity (the API rejects those). */
export function cpuMillis(q: string | undefined): number {
  const v = lenient(q);
  return v === undefined ? 0 : toMilli(v);
}

/** Memory in bytes for the runtime: 0 when unset or not a quantity (the API rejects those). */
export function memoryBytes(q: string | undefined): number {
  const v = lenient(q);
  return v === undefined ? 0 : toBytes(v);
}

function lenient(q: string | undefined): Quantity | undefined {
  if (!q) return undefined;
  try {
    return parseQuantity(q.trim());
  } catch (e) {
    if (e instanceof QuantityError) return undefined;
    throw e;
  }
}
