import type { Storefront } from '../domain/storefront';
import type { Subscription } from '../domain/subscription';

export interface NotifiedCacheOptions<T> {
  /** The longest an entry is used without being read again (a backstop behind the change notices). */
  ttlMs: number;
  /** The most entries kept; past it the oldest goes first. */
  capacity?: number;
  /**
   * How a value is copied into and out of the cache; `structuredClone` unless the value's shape allows cheaper (a
   * flat record whose dates nobody sets can be copied by spreading).
   */
  copy?: (value: T) => T;
  now?: () => number;
}

/** What the change notices drive in a cache (change-notice-listener.ts). */
export interface ChangeNoticed {
  changed(id: string): void;
  bypass(): void;
  resume(): void;
}

/** A read in flight: a change to its row while it runs makes what it read unfit to keep. */
interface Read {
  stale: boolean;
}

/**
 * Rows read by id, kept in memory until they change. An entry is dropped when its row changes: at once on this
 * replica (the unit of work tells it after the commit), and on the others through PostgreSQL's change notices
 * (change-notice-listener.ts). While notices cannot be received (their session is down) the cache is bypassed, so a
 * change elsewhere is never missed for longer than a read.
 *
 * A read that started before a change and ends after its notice must not put the old row back: the change marks the
 * reads of that id in flight, and a marked read does not store what it read. Missing rows are not remembered (one
 * may be created next). Callers get copies, so nothing they change reaches the cache.
 */
export class NotifiedCache<T> implements ChangeNoticed {
  private readonly entries = new Map<string, { value: T; at: number }>();
  private readonly reading = new Map<string, Set<Read>>();
  private bypassed = false;
  private readonly now: () => number;
  private readonly capacity: number;
  private readonly copy: (value: T) => T;

  constructor(
    private readonly load: (id: string) => Promise<T | undefined>,
    private readonly options: NotifiedCacheOptions<T>,
  ) {
    this.now = options.now ?? Date.now;
    this.capacity = options.capacity ?? Number.POSITIVE_INFINITY;
    this.copy = options.copy ?? structuredClone;
  }

  async get(id: string): Promise<T | undefined> {
    if (this.bypassed) return this.load(id);
    const entry = this.entries.get(id);
    if (entry && this.now() - entry.at < this.options.ttlMs) return this.copy(entry.value);
    const read: Read = { stale: false };
    const reads = this.reading.get(id) ?? new Set<Read>();
    reads.add(read);
    this.reading.set(id, reads);
    try {
      const value = await this.load(id);
      if (value !== undefined && !read.stale && !this.bypassed) this.keep(id, value);
      return value;
    } finally {
      reads.delete(read);
      if (reads.size === 0 && this.reading.get(id) === reads) this.reading.delete(id);
    }
  }

  /** The row changed (committed): its entry goes, and a read in flight will not store what it read. */
  changed(id: string): void {
    this.entries.delete(id);
    for (const read of this.reading.get(id) ?? []) read.stale = true;
  }

  /** Changes may have been missed (the notice session was down): nothing cached is trusted, nothing is cached. */
  bypass(): void {
    this.bypassed = true;
    this.forgetAll();
  }

  /** Notices flow again: cache from now on (everything read before is gone). */
  resume(): void {
    this.forgetAll();
    this.bypassed = false;
  }

  private keep(id: string, value: T): void {
    // Re-inserted, so the Map's order is the order entries were stored in and its first key the oldest.
    this.entries.delete(id);
    this.entries.set(id, { value: this.copy(value), at: this.now() });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  private forgetAll(): void {
    this.entries.clear();
    for (const reads of this.reading.values()) for (const read of reads) read.stale = true;
  }
}

/** Subscriptions GetSubscription keeps in memory per replica (about 1 KB each), the oldest stored first out. */
const SUBSCRIPTION_CACHE_ENTRIES = 10_000;

/**
 * The subscription cache GetSubscription reads through. A subscription is a flat record whose dates nobody sets, so
 * spreading copies it (cheaper than `structuredClone` on the read path).
 */
export function subscriptionCache(
  load: (id: string) => Promise<Subscription | undefined>,
  options: { ttlMs: number } = { ttlMs: 60_000 },
): NotifiedCache<Subscription> {
  return new NotifiedCache(load, {
    ttlMs: options.ttlMs,
    capacity: SUBSCRIPTION_CACHE_ENTRIES,
    copy: (subscription) => ({ ...subscription }),
  });
}

/**
 * Storefronts kept per replica (a few hundred bytes each). Only rows that exist are kept, so this bounds memory for
 * a deployment with more storefronts than that, not against senders (ingress looks up any id one names).
 */
const STOREFRONT_CACHE_ENTRIES = 10_000;

/**
 * The storefront cache webhook ingress reads through, once per webhook. A storefront nests its binding (two records
 * and dates), so it is copied field by field: `structuredClone` took about 3 µs of the 200 µs a webhook costs.
 */
export function storefrontCache(
  load: (id: string) => Promise<Storefront | undefined>,
  options: { ttlMs: number } = { ttlMs: 60_000 },
): NotifiedCache<Storefront> {
  return new NotifiedCache(load, { ttlMs: options.ttlMs, capacity: STOREFRONT_CACHE_ENTRIES, copy: copyStorefront });
}

/** A storefront sharing no object with `storefront`: every record and date is new. */
export function copyStorefront(storefront: Storefront): Storefront {
  const { binding } = storefront;
  return {
    ...storefront,
    createdAt: new Date(storefront.createdAt.getTime()),
    updatedAt: new Date(storefront.updatedAt.getTime()),
    binding: {
      ...binding,
      config: { ...binding.config },
      secretRefs: { ...binding.secretRefs },
      validFrom: new Date(binding.validFrom.getTime()),
      ...(binding.validUntil && { validUntil: new Date(binding.validUntil.getTime()) }),
    },
  };
}
