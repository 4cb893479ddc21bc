import type { Knex } from 'knex';
import type { StoredEvent } from '../ports/store.port';
import { toStoredEvent } from './event-log';
import { countOf } from './row-values';

const LEASE = 'outbox';

/** The relay's view of the outbox: a lease so one replica publishes at a time, batches in commit order, marks. */
export class OutboxRelayStore {
  constructor(private readonly knex: Knex) {}

  /** Takes or renews the relay lease. True when this holder may publish until `ttlMs` from now. */
  async acquireLease(holder: string, ttlMs: number): Promise<boolean> {
    const now = new Date();
    const expires = new Date(now.getTime() + ttlMs);
    const rows = await this.knex.raw(
      `INSERT INTO outbox_relay_lease (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
       WHERE outbox_relay_lease.holder = EXCLUDED.holder OR outbox_relay_lease.expires_at < ?
       RETURNING holder`,
      [LEASE, holder, expires, now],
    );
    return rows.rows.length > 0;
  }

  async releaseLease(holder: string): Promise<void> {
    await this.knex('outbox_relay_lease').where({ name: LEASE, holder }).delete();
  }

  /** The oldest unpublished events, in outbox order (which is commit order per key). */
  async nextBatch(limit: number): Promise<(StoredEvent & { id: string })[]> {
    const rows = await this.knex('outbox').whereNull('published_at').orderBy('id').limit(limit);
    return rows.map((row: Record<string, unknown>) => ({ ...toStoredEvent(row), id: String(row.id) }));
  }

  async markPublished(ids: string[]): Promise<void> {
    await this.knex('outbox').whereIn('id', ids).update({ published_at: new Date() });
  }

  async countUnpublished(): Promise<number> {
    return countOf(this.knex('outbox').whereNull('published_at'));
  }
}
