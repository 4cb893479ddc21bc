import type { Knex } from 'knex';
import type { StoredEvent } from '../ports/store.port';
import { toStoredEvent } from './event-log';
import type { RelayLeadership } from './relay-leadership';
import { countOf } from './row-values';
import { storedError } from './stored-error';

/** What toStoredEvent reads, and the id. */
const RELAY_COLUMNS = [
  'id',
  'event_id',
  'type',
  'stream',
  'key',
  'storefront_id',
  'tenant_id',
  'provider',
  'aggregate_id',
  'sequence',
  'occurred_at',
  'payload',
  'traceparent',
  'tracestate',
];

/**
 * The relay's view of the outbox: leadership so one replica publishes at a time, batches in commit order, marks.
 *
 * Marks go through the pool, not the leader's session, so a leader that loses its session mid-batch still marks
 * what Kafka acknowledged, or, if it dies first, leaves those rows unpublished and the next leader sends them again:
 * at least once, as after any crash between ack and mark. Order per key survives the handover: a batch is the
 * oldest unpublished rows in outbox order, so what the next leader re-sends is the same contiguous run of each
 * key's events from the first unacknowledged one on, and each partition receives it in order after the first copy;
 * a consumer that drops repeated ce_ids sees every key's events once and in sequence.
 */
export class OutboxRelayStore {
  constructor(
    private readonly knex: Knex,
    private readonly leadership: RelayLeadership,
  ) {}

  /** True when this process's relay may publish its next batch (asked before each batch). */
  lead(): Promise<boolean> {
    return this.leadership.lead();
  }

  /** Hands leadership over on stop, so another replica's relay publishes at once. */
  stepDown(): Promise<void> {
    return this.leadership.stepDown();
  }

  /**
   * The oldest pending events, in outbox order (which is commit order per key), leaving out every key with a parked
   * event: its later events wait behind it so consumers never see them out of order. `excludeIds` are rows already on
   * their way (sent or being sent, not yet marked): the relay reads its next batch while the current one is sent.
   * Only the columns a message needs are read.
   *
   * The batch's ids are chosen from the queue first and the event log is then read by those ids. The log keeps every
   * event ever written, so a join of the two left PostgreSQL free to merge them, reading the log from its first row:
   * measured with 38,000 events already published, 38,502 log rows read for a batch of 500 (17 ms a batch, against
   * 2 ms by ids), a cost that grows with the log for as long as the service runs.
   */
  async nextBatch(limit: number, excludeIds: string[] = []): Promise<(StoredEvent & { id: string })[]> {
    const batchIds = this.knex('outbox_pending as p')
      .select('p.id')
      .whereNotExists(
        this.knex('outbox_pending as parked')
          .select(this.knex.raw('1'))
          .whereRaw('parked.key = p.key')
          .whereNotNull('parked.parked_at'),
      )
      .orderBy('p.id')
      .limit(limit);
    // One array parameter, not one placeholder per id: the statement's text stays the same whatever is in flight.
    if (excludeIds.length > 0) batchIds.whereRaw('p.id <> all(?::bigint[])', [excludeIds]);
    const rows = await this.knex('outbox as o')
      .select(RELAY_COLUMNS.map((column) => `o.${column}`))
      .whereRaw('o.id = any(array(?))', [batchIds])
      .orderBy('o.id');
    return rows.map((row: Record<string, unknown>) => ({ ...toStoredEvent(row), id: String(row.id) }));
  }

  /** Sets an event Kafka refused for good aside, with a dead letter saying why (one transaction). */
  async park(event: StoredEvent & { id: string }, error: string, at: Date, deadLetterId: string): Promise<void> {
    await this.knex.transaction(async (tx) => {
      const parked = await tx('outbox_pending').where({ id: event.id }).update({ parked_at: at });
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
        error: storedError(error),
        attempts: 1,
        received_at: event.occurredAt,
        last_attempt_at: at,
      });
    });
  }

  /** Events parked and not yet retried (metrics). */
  async countParked(): Promise<number> {
    return countOf(this.knex('outbox_pending').whereNotNull('parked_at'));
  }

  /** Kafka acknowledged these: they leave the queue (the event log keeps them). */
  async markPublished(ids: string[]): Promise<void> {
    await this.knex('outbox_pending').whereRaw('id = any(?::bigint[])', [ids]).delete();
  }

  async countUnpublished(): Promise<number> {
    return countOf(this.knex('outbox_pending'));
  }
}
