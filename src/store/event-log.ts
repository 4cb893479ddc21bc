import type { Knex } from 'knex';
import type { EventFilter, EventLog, StoredEvent } from '../ports/store.port';
import { asBigInt, asBytes } from './row-values';

type Row = Record<string, unknown>;

/** The outbox read as an event log. Position = outbox row id, which is commit order per key. */
export class KnexEventLog implements EventLog {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  async list(filter: EventFilter, page: { size: number; afterPosition?: string }) {
    const query = filtered(this.db('outbox'), filter).orderBy('id').limit(page.size);
    if (page.afterPosition) query.where('id', '>', page.afterPosition);
    return (await query).map((row: Row) => ({ ...toStoredEvent(row), position: String(row.id) }));
  }

  /**
   * Queues the matching events again, unless more than `max` match (then nothing, and undefined): the matching rows
   * are read only up to `max` + 1, so a filter matching millions costs no more than one that matches `max`. Those
   * still pending stay where they are and are not counted.
   */
  async requeue(filter: EventFilter, max: number): Promise<number | undefined> {
    const matching = filtered(this.db('outbox').select('id', 'key'), filter).limit(max + 1);
    const result = await this.db.raw(
      `WITH matching AS (?),
            queued AS (INSERT INTO outbox_pending (id, key)
                       SELECT id, key FROM matching WHERE (SELECT count(*) FROM matching) <= ?
                       ON CONFLICT (id) DO NOTHING RETURNING 1)
       SELECT (SELECT count(*) FROM matching)::int AS matched, (SELECT count(*) FROM queued)::int AS queued`,
      [matching, max],
    );
    const { matched, queued } = (result.rows as { matched: number; queued: number }[])[0]!;
    return matched > max ? undefined : queued;
  }

  async unpark(eventId: string): Promise<void> {
    await this.db('outbox_pending')
      .whereIn('id', this.db('outbox').select('id').where({ event_id: eventId }))
      .update({ parked_at: null });
  }
}

function filtered(query: Knex.QueryBuilder, filter: EventFilter): Knex.QueryBuilder {
  if (filter.tenantId) query.where('tenant_id', filter.tenantId);
  if (filter.storefrontId) query.where('storefront_id', filter.storefrontId);
  if (filter.aggregateId) query.where('aggregate_id', filter.aggregateId);
  if (filter.types?.length) query.whereIn('type', filter.types);
  if (filter.since) query.where('occurred_at', '>=', filter.since);
  if (filter.until) query.where('occurred_at', '<', filter.until);
  return query;
}

export function toStoredEvent(row: Row): StoredEvent {
  return {
    eventId: row.event_id as string,
    type: row.type as string,
    key: row.key as string,
    stream: row.stream as string,
    storefrontId: row.storefront_id as string,
    tenantId: row.tenant_id as string,
    provider: row.provider as string,
    aggregateId: row.aggregate_id as string,
    sequence: asBigInt(row.sequence),
    occurredAt: new Date(row.occurred_at as string),
    payload: asBytes(row.payload),
    traceparent: (row.traceparent as string | null) ?? undefined,
    tracestate: (row.tracestate as string | null) ?? undefined,
  };
}
