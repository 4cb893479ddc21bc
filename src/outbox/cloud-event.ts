import type { EventStream } from '../domain/event-catalogue';
import { topicName } from '../domain/event-catalogue';
import { BillingEvent } from '../gen/billing/v1/event';
import type { OutgoingMessage } from '../ports/event-publisher.port';
import type { StoredEvent } from '../ports/store.port';

export type EventEncoding = 'protobuf' | 'json';

/** Wide enough for any int64, so ce_sequence sorts as text. */
const SEQUENCE_DIGITS = 19;

/**
 * A stored event as a Kafka message in CloudEvents 1.0 binary mode: attributes in `ce_*` headers, the
 * billing.v1.BillingEvent as the value (protobuf bytes, or its canonical JSON with EVENT_ENCODING=json).
 */
export function toCloudEventMessage(
  event: StoredEvent,
  options: { topicPrefix: string; encoding: EventEncoding; traceHeaders: Record<string, string> },
): OutgoingMessage {
  const json = options.encoding === 'json';
  const value = json
    ? Buffer.from(JSON.stringify(BillingEvent.toJSON(BillingEvent.decode(event.payload))))
    : // The driver's Buffer is ours alone (read for this batch): no copy. PGlite hands a Uint8Array.
      Buffer.isBuffer(event.payload)
      ? event.payload
      : Buffer.from(event.payload);
  return {
    topic: topicName(options.topicPrefix, event.stream as EventStream),
    key: event.key,
    value,
    headers: {
      ce_specversion: '1.0',
      ce_id: event.eventId,
      ce_source: `/storefronts/${event.storefrontId}`,
      ce_type: event.type,
      ce_time: event.occurredAt.toISOString(),
      ce_subject: event.aggregateId,
      ce_sequence: event.sequence.toString().padStart(SEQUENCE_DIGITS, '0'),
      ce_provider: event.provider,
      ce_tenant: event.tenantId,
      'content-type': json ? 'application/json' : 'application/protobuf',
      ...options.traceHeaders,
    },
  };
}

/** The trace context written with the event, as it was written: what a message carries when no span continues it. */
export function storedTraceHeaders(event: StoredEvent): Record<string, string> {
  if (!event.traceparent) return {};
  return event.tracestate
    ? { traceparent: event.traceparent, tracestate: event.tracestate }
    : { traceparent: event.traceparent };
}
