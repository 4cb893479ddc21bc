import type { Storefront } from '../domain/storefront';

export interface StorefrontCacheOptions {
  /** The longest an entry is used without being read again (a backstop behind the change notices). */
  ttlMs: number;
  now?: () => number;
}

/**
 * Storefronts (with their current binding) as the webhook ingress reads them, once per storefront rather than once
 * per webhook. An entry is dropped when its storefront changes: at once on this replica (after the commit), and on
 * the others through PostgreSQL's change notices (storefront-change-listener.ts). While notices cannot be received
 * (their session is down) the cache is bypassed, so a change elsewhere is never missed for longer than a read.
 *
 * A read that started before a change and ends after its notice must not put the old row back: each storefront has
 * a generation, bumped by every change, and a read stores its row only if the generation it started under is still
 * current. Missing storefronts are not remembered (one may be created next).
 */
export class StorefrontCache {
  private readonly entries = new Map<string, { storefront: Storefront; at: number }>();
  private readonly generations = new Map<string, number>();
  private epoch = 0;
  private bypassed = false;
  private readonly now: () => number;

  constructor(
    private readonly load: (id: string) => Promise<Storefront | undefined>,
    private readonly options: StorefrontCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async get(id: string): Promise<Storefront | undefined> {
    if (this.bypassed) return this.load(id);
    const entry = this.entries.get(id);
    if (entry && this.now() - entry.at < this.options.ttlMs) return structuredClone(entry.storefront);
    const started = this.generationOf(id);
    const storefront = await this.load(id);
    if (storefront && !this.bypassed && this.generationOf(id) === started) {
      this.entries.set(id, { storefront: structuredClone(storefront), at: this.now() });
    }
    return storefront;
  }

  /** The storefront changed (committed): its entry goes, and a read in flight will not store what it read. */
  changed(id: string): void {
    this.entries.delete(id);
    this.generations.set(id, (this.generations.get(id) ?? 0) + 1);
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

  private forgetAll(): void {
    this.entries.clear();
    this.generations.clear();
    this.epoch += 1;
  }

  private generationOf(id: string): string {
    return `${this.epoch}/${this.generations.get(id) ?? 0}`;
  }
}
