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

/**
 * A bounded cache of computed results (an SPF or DMARC evaluation) that each live until a given
 * time (the earliest expiry of the DNS answers they used), counting hits and misses; one per process.
 */
export class ResultCache<V> {
  private readonly lru: TtlLru<V>;
  hits = 0;
  misses = 0;
  constructor(maxEntries = 10_000) {
    this.lru = new TtlLru(maxEntries);
  }
  get(key: string, now: number): V | undefined {
    const v = this.lru.get(key, now);
    if (v) this.hits++;
    else this.misses++;
    return v;
  }
  set(key: string, value: V, expiresAt: number): void {
    this.lru.set(key, value, expiresAt);
  }
  get size(): number {
    return this.lru.size;
  }
  /** Counters for the periodic log line. */
  stats(): { hits: number; misses: number; size: number } {
    return { hits: this.hits, misses: this.misses, size: this.size };
  }
}

/** Results kept at most this long even when nothing bounded them sooner. */
const MAX_RESULT_KEEP_MS = 3_600_000;

/**
 * The live cached result for `key`, or `run` with a fresh tracker whose result is then kept until
 * the tracker's expiry (at most MAX_RESULT_KEEP_MS) when `keep` says it may be.
 */
export async function cachedResult<V, T extends { expiresAt(): number }>(
  cache: ResultCache<V>,
  key: string,
  now: () => number,
  track: () => T,
  run: (tracker: T) => Promise<V>,
  keep: (v: V) => boolean,
): Promise<V> {
  const hit = cache.get(key, now());
  if (hit) return hit;
  const tracker = track();
  const v = await run(tracker);
  const t0 = now();
  const expiresAt = Math.min(tracker.expiresAt(), t0 + MAX_RESULT_KEEP_MS);
  if (expiresAt > t0 && keep(v)) cache.set(key, v, expiresAt);
  return v;
}
