import type { DecodedEvent } from '../../packages/client/src';
import { BillingEvent } from '../gen/billing/v1/event';
import { paymentStatusToJSON } from '../gen/billing/v1/payment';
import { subscriptionStatusToJSON } from '../gen/billing/v1/subscription';
import { enumName, jsonText, money, printable } from './output';

/**
 * `TIME  SEQ  TYPE  SUBJECT  summary`: one event as it arrives, for people. Whoever can write to the topic chooses
 * every string in it, so each is printed without control characters.
 */
export function eventLine(e: DecodedEvent): string {
  const type = printable(e.type).padEnd(34);
  const subject = printable(e.subject).padEnd(24);
  return [e.time.toISOString(), e.sequence.toString().padStart(4), type, subject, printable(summary(e))]
    .join('  ')
    .trimEnd();
}

/**
 * One event for scripts, one JSON object per line: the CloudEvents headers it came with (as the package read them),
 * where it was read, and the BillingEvent in its generated JSON form.
 */
export function eventJson(e: DecodedEvent): string {
  const headers = {
    ce_id: e.id,
    ce_type: e.type,
    ce_source: e.source,
    ce_subject: e.subject,
    ce_time: e.time.toISOString(),
    ce_sequence: e.sequence.toString(),
    ce_provider: e.provider,
    ce_tenant: e.tenant,
    'content-type': e.contentType,
    ...(e.traceparent && { traceparent: e.traceparent }),
    ...(e.tracestate && { tracestate: e.tracestate }),
  };
  const line = { headers, topic: e.topic, partition: e.partition, offset: e.offset, key: e.key };
  return jsonText(JSON.stringify({ ...line, event: BillingEvent.toJSON(e.event) }));
}

/** The few fields of the payload that say what happened; nothing for payloads without an obvious pick. */
function summary({ type, event }: DecodedEvent): string {
  if (event.subscription) {
    const s = event.subscription;
    return `${enumName(subscriptionStatusToJSON(s.status), 'SUBSCRIPTION_STATUS_')} plan=${s.planId}`;
  }
  if (event.payment) {
    const p = event.payment;
    return `${enumName(paymentStatusToJSON(p.status), 'PAYMENT_STATUS_')} ${money(p.amount) ?? ''}`.trimEnd();
  }
  if (event.entitlement) {
    // The payload is the entitlement as it stands; whether it was granted or revoked is the event's verb.
    const verb = type.slice(type.lastIndexOf('.') + 1);
    return `feature=${event.entitlement.featureKey} ${verb}`;
  }
  if (event.customer) return `email=${event.customer.email}`;
  return '';
}
