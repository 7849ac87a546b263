// Kubernetes' "indexed triggers": watchers pinned by their field selector to one value of a
// kind's trigger field (node agents watching spec.nodeName=<node>) are kept apart by that value,
// so an event is offered only to the few watchers it can concern instead of to every watcher.

/** Watchers of one kind: those pinned to a trigger value by value, all others in one set. */
export class WatcherIndex<W> {
  private readonly unindexed = new Set<W>();
  private readonly byValue = new Map<string, Set<W>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** value: the trigger field's value the watcher's filter requires, undefined when none. */
  add(w: W, value: string | undefined): void {
    let set = this.unindexed;
    if (value !== undefined) {
      set = this.byValue.get(value) ?? new Set<W>();
      this.byValue.set(value, set);
    }
    if (set.has(w)) return;
    set.add(w);
    this.count++;
  }

  /** value must be the one the watcher was added with. */
  delete(w: W, value: string | undefined): void {
    const set = value === undefined ? this.unindexed : this.byValue.get(value);
    if (!set?.delete(w)) return;
    this.count--;
    if (value !== undefined && set.size === 0) this.byValue.delete(value);
  }

  clear(): void {
    this.unindexed.clear();
    this.byValue.clear();
    this.count = 0;
  }

  /** Every watcher (bookmarks go to all that asked). */
  *all(): Generator<W> {
    yield* this.unindexed;
    for (const set of this.byValue.values()) yield* set;
  }

  /**
   * The watchers an event can concern: the unindexed ones, and those pinned to the trigger value
   * of the object now or before the change (so one sees an object leave or enter its filter).
   * Every other watcher's filter rejects both versions of the object.
   */
  *candidates(value: string | undefined, oldValue: string | undefined): Generator<W> {
    yield* this.unindexed;
    if (value !== undefined) yield* this.byValue.get(value) ?? [];
    if (oldValue !== undefined && oldValue !== value) yield* this.byValue.get(oldValue) ?? [];
  }
}
