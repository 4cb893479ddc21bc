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

  /**
   * The oldest unpublished events, in outbox order (which is commit order per key), leaving out every key with a
   * parked event: its later events wait behind it so consumers never see them out of order.
   */
  async nextBatch(limit: number): Promise<(StoredEvent & { id: string })[]> {
    const rows = await this.knex('outbox as o')
      .select('o.*')
      .whereNull('o.published_at')
      .whereNotExists(
        this.knex('outbox as p')
          .select(this.knex.raw('1'))
          .whereRaw('p.key = o.key')
          .whereNotNull('p.parked_at')
          .whereNull('p.published_at'),
      )
      .orderBy('o.id')
      .limit(limit);
    return rows.map((row: Record<string, unknown>) => ({ ...toStoredEvent(row), id: String(row.id) }));
  }

  /** Sets an event Kafka refused for good aside, with a dead letter saying why (one transaction). */
  async park(event: StoredEvent & { id: string }, error: string, at: Date, deadLetterId: string): Promise<void> {
    await this.knex.transaction(async (tx) => {
      const parked = await tx('outbox').where({ id: event.id }).whereNull('published_at').update({ parked_at: at });
      if (parked === 0) return;
      await tx('dead_letters').insert({
        id: deadLetterId,
        kind: 'event',
        inbox_id: null,
        event_id: event.eventId,
        event_key: event.key,
        provider: event.provider,
        storefront_id: event.storefrontId,
        provider_event_id: '',
        event_type: event.type,
        error,
        attempts: 1,
        received_at: event.occurredAt,
        last_attempt_at: at,
      });
    });
  }

  /** Events parked and not yet retried (metrics). */
  async countParked(): Promise<number> {
    return countOf(this.knex('outbox').whereNotNull('parked_at').whereNull('published_at'));
  }

  async markPublished(ids: string[]): Promise<void> {
    await this.knex('outbox').whereIn('id', ids).update({ published_at: new Date() });
  }

  async countUnpublished(): Promise<number> {
    return countOf(this.knex('outbox').whereNull('published_at'));
  }
}
