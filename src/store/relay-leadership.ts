import type { Client } from 'pg';
import type { Database } from './database';

/**
 * Which replica's relay publishes. Leadership belongs to a live process, not to a row with a deadline: when the
 * leader's process dies, its database session ends with it and a standby leads on its next try, without waiting for
 * anything to expire.
 */
export interface RelayLeadership {
  /** True when this process leads (taking the lead if it is free); false while another process holds it. */
  lead(): Promise<boolean>;
  /** Gives the lead up (on stop), so a standby takes it at once. */
  stepDown(): Promise<void>;
}

/** The name PostgreSQL shows for the relay's own session (pg_stat_activity.application_name). */
export const RELAY_SESSION_NAME = 'billing-adapter relay';

/** The advisory lock key: any constant that no other lock of ours uses (migrations lock on hashtext of a name). */
const RELAY_LOCK = 'billing-adapter:outbox-relay';

/** Leadership for the database the service runs on: a session-level advisory lock on PostgreSQL. */
export function relayLeadership(database: Database): RelayLeadership {
  return database.sessionClient ? new AdvisoryLockLeadership(database.sessionClient) : new SingleProcessLeadership();
}

/**
 * A session-level advisory lock held on a connection of its own, outside the pool (a pooled connection is shared and
 * recycled; the lock must live exactly as long as this session). PostgreSQL frees the lock the moment the session
 * ends, which a killed process's does as its socket closes. Standbys simply try the lock again.
 *
 * The leader confirms its session before each batch (one round trip, small beside a batch to Kafka): a session that
 * ended or stopped answering may already have freed the lock, so its holder stops publishing before its next batch
 * and tries to lead again on a new session.
 */
class AdvisoryLockLeadership implements RelayLeadership {
  private session?: Client;
  private leading = false;

  constructor(private readonly connect: (applicationName: string) => Client) {}

  async lead(): Promise<boolean> {
    const session = this.session ?? (await this.openSession());
    try {
      if (this.leading) {
        await session.query('SELECT 1');
        return true;
      }
      const result = await session.query<{ leads: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS leads', [
        RELAY_LOCK,
      ]);
      this.leading = result.rows[0]!.leads;
      return this.leading;
    } catch (error) {
      this.drop(session);
      throw error;
    }
  }

  async stepDown(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    this.leading = false;
    // Ending the session frees the lock.
    await session?.end().catch(() => undefined);
  }

  private async openSession(): Promise<Client> {
    const session = this.connect(RELAY_SESSION_NAME);
    // The session ended (terminated, server restart, network cut): the lock is gone with it. Listening also keeps
    // the error from crashing the process.
    session.on('error', () => this.drop(session));
    session.on('end', () => this.drop(session));
    try {
      await session.connect();
    } catch (error) {
      await session.end().catch(() => undefined);
      throw error;
    }
    this.session = session;
    return session;
  }

  /** Forgets `session` if it is the current one; a dead session may not even answer `end()`, so it is not awaited. */
  private drop(session: Client | undefined): void {
    if (!session || session !== this.session) return;
    this.session = undefined;
    this.leading = false;
    session.end().catch(() => undefined);
  }
}

/** Embedded PGlite serves one process only, so that process's relay always leads. */
class SingleProcessLeadership implements RelayLeadership {
  async lead(): Promise<boolean> {
    return true;
  }

  async stepDown(): Promise<void> {}
}
