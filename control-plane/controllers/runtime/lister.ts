// The read side controllers use: an informer cache satisfies it, and tests preload a
// StaticLister instead (kubernetes' fixture tests fill the informer indexer the same way).
import { objectKey, type AnyObject } from '../../../proto/api/kinds.js';

export interface Lister<T> {
  /** By "namespace/name" (or "name" for cluster-scoped kinds). */
  get(key: string): T | undefined;
  list(): T[];
  byIndex(index: string, value: string): T[];
}

export type IndexFn<T> = (o: T) => string[];

/** An in-memory lister with the same indexes the informers carry. */
export class StaticLister<T extends AnyObject> implements Lister<T> {
  private readonly items = new Map<string, T>();

  constructor(
    items: readonly T[] = [],
    private readonly indexes: Record<string, IndexFn<T>> = {},
  ) {
    for (const o of items) this.set(o);
  }

  set(o: T): void {
    this.items.set(objectKey(o), o);
  }

  remove(key: string): void {
    this.items.delete(key);
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  byIndex(index: string, value: string): T[] {
    const fn = this.indexes[index];
    if (!fn) throw new Error(`no index ${index}`);
    return this.list().filter((o) => fn(o).includes(value));
  }
}
