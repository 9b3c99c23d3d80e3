/**
 * @module auth/ttl-cache
 * A size-bounded LRU map whose entries expire at an absolute time. `Map` keeps insertion order,
 * so a hit re-inserts the key (most recent last) and eviction drops the first key (least recent).
 * Touches: nothing (time is passed in by the caller).
 */
export class TtlLru<V> {
  private readonly map = new Map<string, { value: V; expiresAt: number }>();
  evictions = 0;

  constructor(private readonly maxEntries: number) {
    if (!(maxEntries >= 1)) throw new RangeError('maxEntries must be >= 1');
  }

  /** The live value for `key`, or undefined (an expired entry is dropped). */
  get(key: string, now: number): V | undefined {
    return this.entry(key, now)?.value;
  }

  /** The live entry for `key` with its expiry, or undefined (an expired entry is dropped). */
  entry(key: string, now: number): { readonly value: V; readonly expiresAt: number } | undefined {
    const entry = this.map.get(key);
    if (!entry) return undefined;
    this.map.delete(key);
    if (entry.expiresAt <= now) return undefined;
    this.map.set(key, entry);
    return entry;
  }

  set(key: string, value: V, expiresAt: number): void {
    this.map.delete(key);
    this.map.set(key, { value, expiresAt });
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.map.delete(oldest.value);
      this.evictions++;
    }
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
