/**
 * A set of at most `capacity` strings that forgets its least recently used member first: a bounded
 * memory of things already checked, which a stream of new values cannot grow.
 */
export class LruSet {
  /** A Set iterates in insertion order: re-inserting a member on use keeps the least recently used first. */
  private readonly members = new Set<string>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LruSet: capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.members.size;
  }

  /** Whether `value` is a member; a member found becomes the most recently used. */
  has(value: string): boolean {
    if (!this.members.delete(value)) return false;
    this.members.add(value);
    return true;
  }

  /** Adds `value` as the most recently used member, forgetting the least recently used one when full. */
  add(value: string): void {
    this.members.delete(value);
    this.members.add(value);
    if (this.members.size > this.capacity) this.members.delete(this.members.values().next().value!);
  }

  clear(): void {
    this.members.clear();
  }
}
