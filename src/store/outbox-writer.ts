import { toEventData } from '../contract/event-mapping';
import type { EventDraft } from '../domain/event';
import { invalidArgument } from '../domain/errors';
import { streamOf } from '../domain/event-catalogue';
import { newId } from '../domain/ids';
import { BillingEvent } from '../gen/billing/v1/event';
import type { Clock } from '../ports/clock.port';
import { traceHeadersOrFresh } from '../telemetry/trace-context';
import type { ActorContext, OutboxWriter } from '../ports/store.port';
import type { ChangeJournal } from './change-journal';

/** Well below Kafka's default 1 MiB message limit, leaving room for headers and the JSON encoding. */
export const MAX_EVENT_PAYLOAD_BYTES = 512 * 1024;

/** Room the sequence field appended in SQL takes (tag + a 63-bit varint), counted in the size bound. */
const SEQUENCE_FIELD_BYTES = 10;

/**
 * Writes events into the outbox with the caller's transaction: encoded here, numbered per key and written by the
 * transaction's change journal at its end (change-journal.ts), where the per-key counter row is locked until commit,
 * which serializes writers of one key: sequences are gap-free and commit in order.
 */
export class KnexOutboxWriter implements OutboxWriter {
  constructor(
    private readonly journal: ChangeJournal,
    private readonly clock: Clock,
    private readonly onAppend: () => void,
  ) {}

  async append(draft: EventDraft, actor: ActorContext): Promise<void> {
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
      // Left out (0 is not encoded): the journal appends the field once the key's counter gives it.
      sequence: 0n,
      correlationId: actor.correlationId,
      actor: actor.actor,
      providerEventId: draft.providerEventId ?? '',
      ...toEventData(draft.data),
    }).finish();
    // Inputs are bounded at the edge, so an event this large means a bound is missing: refuse it here, where the
    // request can still be told, rather than write an event Kafka will refuse.
    if (payload.length + SEQUENCE_FIELD_BYTES > MAX_EVENT_PAYLOAD_BYTES) {
      throw invalidArgument([
        {
          field: 'request',
          rule: `would write a ${draft.type} event of ${payload.length + SEQUENCE_FIELD_BYTES} bytes; events are at most ${MAX_EVENT_PAYLOAD_BYTES}`,
        },
      ]);
    }
    // The trace context of the request that caused the event travels with it to Kafka; without one, a fresh trace.
    const trace = traceHeadersOrFresh();

    await this.journal.event({
      eventId,
      type: draft.type,
      key: draft.key,
      stream: streamOf(draft.type),
      storefrontId: draft.storefrontId,
      tenantId: draft.tenantId,
      provider: draft.provider,
      aggregateId: draft.aggregateId,
      occurredAt,
      payload,
      traceparent: trace.traceparent,
      tracestate: trace.tracestate,
    });
    this.onAppend();
  }
}
