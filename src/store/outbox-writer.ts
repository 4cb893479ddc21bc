import { context, propagation } from '@opentelemetry/api';
import type { Knex } from 'knex';
import { toEventData } from '../contract/event-mapping';
import type { EventDraft } from '../domain/event';
import { invalidArgument } from '../domain/errors';
import { streamOf } from '../domain/event-catalogue';
import { newId } from '../domain/ids';
import { BillingEvent } from '../gen/billing/v1/event';
import type { Clock } from '../ports/clock.port';
import type { ActorContext, OutboxWriter, StoredEvent } from '../ports/store.port';
import { asBigInt } from './row-values';

/** Well below Kafka's default 1 MiB message limit, leaving room for headers and the JSON encoding. */
export const MAX_EVENT_PAYLOAD_BYTES = 512 * 1024;

/**
 * Writes events into the outbox inside the caller's transaction. The per-key counter row is locked until commit,
 * which serializes writers of one key: sequences are gap-free and commit in order.
 */
export class KnexOutboxWriter implements OutboxWriter {
  constructor(
    private readonly tx: Knex | Knex.Transaction,
    private readonly clock: Clock,
    private readonly onAppend: () => void,
  ) {}

  async append(draft: EventDraft, actor: ActorContext): Promise<StoredEvent> {
    const counter = await this.tx.raw(
      `INSERT INTO event_sequences (key, last_sequence) VALUES (?, 1)
       ON CONFLICT (key) DO UPDATE SET last_sequence = event_sequences.last_sequence + 1
       RETURNING last_sequence`,
      [draft.key],
    );
    const sequence = asBigInt(counter.rows[0].last_sequence);
    const occurredAt = this.clock.now();
    const eventId = newId('evt');
    const payload = BillingEvent.encode({
      id: eventId,
      type: draft.type,
      occurredAt,
      tenantId: draft.tenantId,
      storefrontId: draft.storefrontId,
      provider: draft.provider,
      aggregateId: draft.aggregateId,
      sequence,
      correlationId: actor.correlationId,
      actor: actor.actor,
      providerEventId: draft.providerEventId ?? '',
      ...toEventData(draft.data),
    }).finish();
    // Inputs are bounded at the edge, so an event this large means a bound is missing: refuse it here, where the
    // request can still be told, rather than write an event Kafka will refuse.
    if (payload.length > MAX_EVENT_PAYLOAD_BYTES) {
      throw invalidArgument([
        {
          field: 'request',
          rule: `would write a ${draft.type} event of ${payload.length} bytes; events are at most ${MAX_EVENT_PAYLOAD_BYTES}`,
        },
      ]);
    }
    // The trace context of the request that caused the event travels with it to Kafka.
    const carrier: { traceparent?: string; tracestate?: string } = {};
    propagation.inject(context.active(), carrier);

    const event: StoredEvent = {
      eventId,
      type: draft.type,
      key: draft.key,
      stream: streamOf(draft.type),
      storefrontId: draft.storefrontId,
      tenantId: draft.tenantId,
      provider: draft.provider,
      aggregateId: draft.aggregateId,
      sequence,
      occurredAt,
      payload,
      traceparent: carrier.traceparent,
      tracestate: carrier.tracestate,
    };
    await this.tx('outbox').insert(toRow(event));
    this.onAppend();
    return event;
  }
}

function toRow(e: StoredEvent) {
  return {
    event_id: e.eventId,
    type: e.type,
    stream: e.stream,
    key: e.key,
    storefront_id: e.storefrontId,
    tenant_id: e.tenantId,
    provider: e.provider,
    aggregate_id: e.aggregateId,
    sequence: e.sequence.toString(),
    occurred_at: e.occurredAt,
    payload: Buffer.from(e.payload),
    traceparent: e.traceparent ?? null,
    tracestate: e.tracestate ?? null,
  };
}
