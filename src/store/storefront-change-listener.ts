import type { Client, Notification } from 'pg';
import type { Logger } from 'pino';
import type { Knex } from 'knex';
import type { StorefrontCache } from './storefront-cache';

/** The channel a storefront's id is sent on when it (or its binding) changes; see `announceStorefrontChange`. */
export const STOREFRONT_CHANGES = 'billing_storefront_changed';

/** Tells every replica, at commit, that the storefront changed (NOTIFY is transactional: nothing if it rolls back). */
export async function announceStorefrontChange(db: Knex | Knex.Transaction, storefrontId: string): Promise<void> {
  await db.raw('SELECT pg_notify(?, ?)', [STOREFRONT_CHANGES, storefrontId]);
}

/**
 * Listens for storefront changes made by any replica on its own session (outside the pool) and drops them from the
 * cache. Until it listens, and whenever its session is lost, the cache is bypassed; it reconnects on its own.
 */
export class StorefrontChangeListener {
  private session?: Client;
  private stopped = false;
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly connect: (applicationName: string) => Client,
    private readonly cache: StorefrontCache,
    private readonly logger: Logger,
    private readonly retryMs = 1_000,
  ) {
    cache.bypass();
  }

  async start(): Promise<void> {
    if (this.stopped) return;
    const session = this.connect('billing-adapter storefront changes');
    const lost = () => {
      if (this.session !== session) return;
      this.session = undefined;
      this.cache.bypass();
      if (!this.stopped) this.logger.warn('storefront change notices lost; reading storefronts uncached until back');
      this.scheduleRetry();
    };
    session.on('error', lost);
    session.on('end', lost);
    session.on('notification', (notice: Notification) => {
      if (notice.channel === STOREFRONT_CHANGES && notice.payload) this.cache.changed(notice.payload);
    });
    try {
      await session.connect();
      await session.query(`LISTEN ${STOREFRONT_CHANGES}`);
    } catch {
      await session.end().catch(() => undefined);
      this.scheduleRetry();
      return;
    }
    if (this.stopped) {
      await session.end().catch(() => undefined);
      return;
    }
    this.session = session;
    this.cache.resume();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const session = this.session;
    this.session = undefined;
    this.cache.bypass();
    await session?.end().catch(() => undefined);
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.start();
    }, this.retryMs);
    this.retry.unref();
  }
}
