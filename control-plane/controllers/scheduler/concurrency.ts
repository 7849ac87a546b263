// Runs fn over items with at most `limit` calls in flight and waits for all of them; rethrows
// the first failure only after every call has settled, so none is left running unobserved.
export async function mapSettledLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let firstError: { e: unknown } | undefined;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!);
      } catch (e) {
        firstError ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError) throw firstError.e;
  return results;
}
