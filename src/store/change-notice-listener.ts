import type { Client, Notification } from 'pg';
import type { Logger } from 'pino';
import type { ChangeNoticed } from './notified-cache';

// The channels the tables' triggers announce committed changes on (migration 016), each with the changed row's id.
/** A storefront or one of its bindings changed: the storefront's id. */
export const STOREFRONT_CHANGES = 'billing_storefront_changed';
/** A subscription changed: its id. */
export const SUBSCRIPTION_CHANGES = 'billing_subscription_changed';

/** The session's `application_name`, as PostgreSQL's `pg_stat_activity` shows it. */
export const CHANGE_NOTICES_SESSION = 'billing-adapter change notices';

/**
 * Listens for the changes any replica makes, on its own session (outside the pool), and drops the changed rows from
 * the cache that channel feeds. Until it listens, and whenever its session is lost, every cache is bypassed; it
 * reconnects on its own.
 *
 * A session can also die without a word (a network partition, a frozen server: no error, no end, and no notices).
 * So the session is asked `SELECT 1` every `heartbeatMs`; one that does not answer within its query timeout counts
 * as lost, which bounds how long a change elsewhere can go unseen.
 */
export class ChangeNoticeListener {
  private session?: Client;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;

  constructor(
    private readonly connect: (applicationName: string) => Client,
    /** For each channel, the cache its notices (each a row id) drop entries from. */
    private readonly caches: Record<string, ChangeNoticed>,
    private readonly logger: Logger,
    private readonly retryMs = 1_000,
    private readonly heartbeatMs = 5_000,
  ) {
    this.bypassAll();
  }

  async start(): Promise<void> {
    if (this.stopped) return;
    const session = this.connect(CHANGE_NOTICES_SESSION);
    const lost = () => {
      if (this.session !== session) return;
      this.session = undefined;
      clearInterval(this.heartbeat);
      this.bypassAll();
      if (!this.stopped)
        this.logger.warn('change notices lost; reading storefronts and subscriptions uncached until back');
      this.scheduleRetry();
    };
    session.on('error', lost);
    session.on('end', lost);
    session.on('notification', (notice: Notification) => {
      if (notice.payload) this.caches[notice.channel]?.changed(notice.payload);
    });
    try {
      await session.connect();
      for (const channel of Object.keys(this.caches)) await session.query(`LISTEN ${channel}`);
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
    for (const cache of Object.values(this.caches)) cache.resume();
    this.heartbeat = setInterval(() => {
      session.query('SELECT 1').catch(() => {
        lost();
        void session.end().catch(() => undefined);
      });
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    const session = this.session;
    this.session = undefined;
    this.bypassAll();
    await session?.end().catch(() => undefined);
  }

  private bypassAll(): void {
    for (const cache of Object.values(this.caches)) cache.bypass();
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
