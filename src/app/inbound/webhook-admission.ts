import { webhookIpRanges, BindingSpec } from '../../domain/binding-rules';
import { ipAllowed } from '../../domain/ip-allowlist';
import type { WebhookEnvelope } from '../../ports/provider-adapter.port';

/**
 * Why a sender may not deliver webhooks for this binding (403), or undefined when it may: the binding has no
 * allowlist, or the address is on it. A stored allowlist that no longer parses refuses everyone (fail closed): the
 * operator asked for a restriction, and guessing what they meant would lift it.
 */
export function sourceRefusal(
  spec: BindingSpec | undefined,
  config: Record<string, string>,
  remoteAddress: string,
): string | undefined {
  const allowlist = webhookIpRanges(spec, config);
  if (!allowlist) return undefined;
  // Said to an unauthenticated sender: its own address, never the operator's allowlist or why it does not parse.
  if ('error' in allowlist) return `the storefront's webhook source allowlist cannot be read; it refuses every sender`;
  if (ipAllowed(remoteAddress, allowlist.ranges)) return undefined;
  return `source address ${remoteAddress.slice(0, 45)} is not allowed for this storefront`;
}

const MAX_ORDERING_KEY = 255;
const MAX_EVENT_TEXT = 255;
const LONE_SURROGATE = /\p{Cs}/u;
/** numeric(40,0) in the inbox; providers' sequences are int64 or smaller. */
const MAX_SEQUENCE_DIGITS = 38;
// Compiled once: every webhook's envelope is checked.
const ORDERING_KEY = new RegExp(`^[\\x21-\\x7e]{1,${MAX_ORDERING_KEY}}$`);
const SEQUENCE = new RegExp(`^\\d{1,${MAX_SEQUENCE_DIGITS}}$`);

/** Why an adapter's envelope cannot be stored (400), or undefined: an ordering key must be short printable ASCII. */
export function envelopeRefusal(envelope: WebhookEnvelope): string | undefined {
  const { orderingKey, sequence } = envelope;
  // Text the inbox cannot hold (PostgreSQL refuses NUL) would fail every webhook batched with it, on each retry.
  if (/\0/.test(envelope.providerEventId + envelope.eventType)) {
    return 'event id and type must not contain NUL characters';
  }
  // The event id is in the inbox's unique index (btree refuses entries past ~2.7 KB); neither is ever long.
  if (envelope.providerEventId.length > MAX_EVENT_TEXT || envelope.eventType.length > MAX_EVENT_TEXT) {
    return `event id and type must be at most ${MAX_EVENT_TEXT} characters`;
  }
  if (LONE_SURROGATE.test(envelope.providerEventId + envelope.eventType)) {
    return 'event id and type must not hold half of a UTF-16 surrogate pair';
  }
  if (orderingKey !== undefined && !ORDERING_KEY.test(orderingKey)) {
    return `ordering key must be 1 to ${MAX_ORDERING_KEY} printable ASCII characters`;
  }
  if (sequence !== undefined && !SEQUENCE.test(sequence)) {
    return `sequence must be 1 to ${MAX_SEQUENCE_DIGITS} decimal digits`;
  }
  return undefined;
}
