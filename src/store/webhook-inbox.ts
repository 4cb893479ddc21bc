import type { Knex } from 'knex';
import type { DeadLetter, InboxEntry, PageRequest, WebhookInbox } from '../ports/store.port';
import { asBytes, asJson, asNumber, asOptionalDate, countOf } from './row-values';

type Row = Record<string, unknown>;

/** The webhook inbox (raw bodies, unique per provider event) and the dead letters that failed processing. */
export class KnexWebhookInbox implements WebhookInbox {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  async insert(entry: Omit<InboxEntry, 'id' | 'attempts'>): Promise<boolean> {
    const inserted = await this.db('webhook_inbox')
      .insert({
        provider: entry.provider,
        storefront_id: entry.storefrontId,
        provider_event_id: entry.providerEventId,
        event_type: entry.eventType,
        ordering_key: entry.orderingKey ?? null,
        sequence: entry.sequence ?? null,
        source_ip: entry.sourceIp ?? null,
        headers: JSON.stringify(entry.headers),
        body: entry.body,
        status: 'PENDING',
        next_attempt_at: entry.receivedAt,
        traceparent: entry.traceparent ?? null,
        received_at: entry.receivedAt,
      })
      .onConflict(['provider', 'storefront_id', 'provider_event_id'])
      .ignore()
      .returning('id');
    return inserted.length > 0;
  }

  /** Webhooks waiting to be processed, due or not (metrics). */
  async countPending(): Promise<number> {
    return countOf(this.db('webhook_inbox').where('status', 'PENDING'));
  }

  /** Webhook dead letters not (yet) retried (metrics; parked events have their own gauge). */
  async countDeadLetters(): Promise<number> {
    return countOf(this.db('dead_letters').where('kind', 'webhook').whereNull('retried_at'));
  }

  /**
   * The oldest due pending row, locked, skipping rows other workers hold (replicas share the work). A row with an
   * ordering key is eligible only when no earlier row of its (provider, storefront, key) is still PENDING — being
   * processed (its status changes only when that transaction commits), due, or waiting to retry — so one failing
   * row holds back its own key and nothing else. Earlier = lower sequence (none counts as lowest), then earlier
   * receipt (id); a total order, so keys cannot deadlock. A dead-lettered row is no longer PENDING: its key moves
   * on, and replaying it later goes through the state machine, which refuses regressions.
   */
  async claimDue(now: Date): Promise<InboxEntry | undefined> {
    const row = await this.db('webhook_inbox as w')
      .select('w.*')
      .where('w.status', 'PENDING')
      .andWhere('w.next_attempt_at', '<=', now)
      .andWhere((unblocked) =>
        unblocked
          .whereNull('w.ordering_key')
          .orWhereNotExists((earlier) =>
            earlier
              .select(this.db.raw('1'))
              .from('webhook_inbox as e')
              .where('e.status', 'PENDING')
              .whereRaw('e.provider = w.provider and e.storefront_id = w.storefront_id')
              .whereRaw('e.ordering_key = w.ordering_key')
              .whereRaw('(coalesce(e.sequence, -1), e.id) < (coalesce(w.sequence, -1), w.id)'),
          ),
      )
      .orderBy('w.id')
      .first()
      .forUpdate()
      .skipLocked();
    return row ? toEntry(row) : undefined;
  }

  async markProcessed(id: string, at: Date, outcome?: string): Promise<void> {
    await this.db('webhook_inbox')
      .where({ id })
      .update({ status: 'PROCESSED', processed_at: at, last_error: null, outcome: outcome?.slice(0, 1000) ?? null });
  }

  async scheduleRetry(id: string, attempts: number, error: string, nextAttemptAt: Date): Promise<void> {
    await this.db('webhook_inbox')
      .where({ id })
      .update({ attempts, last_error: error, next_attempt_at: nextAttemptAt });
  }

  async deadLetter(entry: InboxEntry, attempts: number, error: string, at: Date, deadLetterId: string) {
    await this.db('webhook_inbox').where({ id: entry.id }).update({ status: 'DEAD', attempts, last_error: error });
    await this.db('dead_letters').insert({
      id: deadLetterId,
      inbox_id: entry.id,
      provider: entry.provider,
      storefront_id: entry.storefrontId,
      provider_event_id: entry.providerEventId,
      event_type: entry.eventType,
      error,
      attempts,
      received_at: entry.receivedAt,
      last_attempt_at: at,
    });
  }

  async listDeadLetters(filter: { storefrontId?: string; provider?: string }, page: PageRequest) {
    const query = this.db('dead_letters').whereNull('retried_at').orderBy('id').limit(page.size);
    if (filter.storefrontId) query.where('storefront_id', filter.storefrontId);
    if (filter.provider) query.where('provider', filter.provider);
    if (page.afterId) query.where('id', '>', page.afterId);
    return (await query).map(toDeadLetter);
  }

  async getDeadLetter(id: string, options?: { forUpdate?: boolean }): Promise<DeadLetter | undefined> {
    const query = this.db('dead_letters').where({ id }).first();
    const row = await (options?.forUpdate ? query.forUpdate() : query);
    return row ? toDeadLetter(row) : undefined;
  }

  async requeueDeadLetter(id: string, at: Date): Promise<void> {
    const letter = await this.db('dead_letters').where({ id }).update({ retried_at: at }).returning('inbox_id');
    const inboxId = letter[0]?.inbox_id;
    // An event's dead letter has no inbox row (see DeadLetterUseCases.retry).
    if (inboxId === undefined || inboxId === null) return;
    await this.db('webhook_inbox')
      .where({ id: inboxId })
      .update({ status: 'PENDING', attempts: 0, next_attempt_at: at, last_error: null });
  }
}

function toEntry(row: Row): InboxEntry {
  return {
    id: String(row.id),
    provider: row.provider as string,
    storefrontId: row.storefront_id as string,
    providerEventId: row.provider_event_id as string,
    eventType: row.event_type as string,
    headers: asJson(row.headers),
    body: Buffer.from(asBytes(row.body)),
    attempts: asNumber(row.attempts),
    traceparent: (row.traceparent as string | null) ?? undefined,
    receivedAt: new Date(row.received_at as string),
    orderingKey: (row.ordering_key as string | null) ?? undefined,
    sequence: row.sequence === null || row.sequence === undefined ? undefined : String(row.sequence),
    sourceIp: (row.source_ip as string | null) ?? undefined,
  };
}

function toDeadLetter(row: Row): DeadLetter {
  return {
    id: row.id as string,
    kind: row.kind === 'event' ? 'event' : 'webhook',
    inboxId: row.inbox_id === null || row.inbox_id === undefined ? undefined : String(row.inbox_id),
    eventId: (row.event_id as string | null) ?? undefined,
    eventKey: (row.event_key as string | null) ?? undefined,
    provider: row.provider as string,
    storefrontId: row.storefront_id as string,
    providerEventId: row.provider_event_id as string,
    eventType: row.event_type as string,
    error: row.error as string,
    attempts: asNumber(row.attempts),
    receivedAt: new Date(row.received_at as string),
    lastAttemptAt: new Date(row.last_attempt_at as string),
    retriedAt: asOptionalDate(row.retried_at),
  };
}
