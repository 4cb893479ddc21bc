import { invalidArgument } from '../../src/domain/errors';
import { hmacSha256Hex, matchSecret, timestampOutsideTolerance } from '../kit/signatures';
import type {
  ProviderEvent,
  ProviderWebhooks,
  RawWebhook,
  ReceivedWebhook,
  WebhookEnvelope,
  WebhookKeys,
  WebhookVerdict,
} from '../../src/ports/provider-adapter.port';
import { toInvoiceState, toPaymentState, toRefundState, toSubscriptionState, webhookMeaning } from './mapping';
import { asObject, optionalTime, parseSubotizJson, WireObject } from './wire';

/**
 * Timestamps further than this from our clock are refused (replays, badly skewed senders). A storefront may set
 * `webhook_tolerance_seconds` (30..3600, checked when the binding is written): Subotiz's document names no window,
 * and a merchant whose deliveries queue longer (retries after an outage) would otherwise lose them (README).
 */
const DEFAULT_TOLERANCE_SECONDS = 300;

function toleranceSeconds(config: Record<string, string>): number {
  const raw = config.webhook_tolerance_seconds;
  const value = raw !== undefined && /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  // A stored value outside the rules (written before them) falls back to the default, never to "no limit".
  return value >= 30 && value <= 3600 ? value : DEFAULT_TOLERANCE_SECONDS;
}

/** Lower-case hex HMAC-SHA256 over `${X-Timestamp}.${raw_body}`, as Subotiz signs its webhooks. */
export function subotizWebhookSignature(secret: string, timestamp: string, body: Buffer): string {
  return hmacSha256Hex(secret, `${timestamp}.`, body);
}

/** Checks X-Signature against the current, then the previous secret; refuses stale or missing timestamps. */
export function verifySubotizWebhook(webhook: ReceivedWebhook, keys: WebhookKeys, now: Date): WebhookVerdict {
  const { secrets } = keys;
  const tolerance = toleranceSeconds(keys.config);
  const timestamp = webhook.headers['x-timestamp'];
  const signature = webhook.headers['x-signature'];
  if (!timestamp) return { ok: false, reason: 'missing X-Timestamp header' };
  if (!signature) return { ok: false, reason: 'missing X-Signature header' };
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, reason: 'X-Timestamp is not a timestamp in milliseconds' };
  const stale = timestampOutsideTolerance(Number(timestamp), now, tolerance * 1000);
  if (stale) return { ok: false, reason: `X-Timestamp ${stale}` };
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) return { ok: false, reason: 'X-Signature is not a hex HMAC-SHA256' };
  if (!secrets.current && !secrets.previous) {
    return { ok: false, reason: 'no webhook secret is configured for this storefront' };
  }
  if (matchSecret(secrets, signature, (key) => subotizWebhookSignature(key, timestamp, webhook.body))) {
    return { ok: true };
  }
  return { ok: false, reason: 'X-Signature does not match the current or previous webhook secret' };
}

/** Longest id (event or object) we accept; Subotiz's are int64 decimals or short prefixed strings. */
const MAX_ID_LENGTH = 255;
const PRINTABLE_ID = /^[\x21-\x7e]+$/;

/**
 * Refuses (INVALID_ARGUMENT → 400, nothing stored) a signed body that carries a NUL anywhere, or an id — the event's
 * or any object's (`id`, `*_id`) — that is oversized or not printable ASCII. Such values would only fail later, in
 * PostgreSQL or a header, after the webhook was acknowledged. Walks without recursion: the body may be deep.
 */
function checkHostileText(body: WireObject): void {
  const pending: [unknown, string][] = [[body, 'body']];
  while (pending.length > 0) {
    const [value, field] = pending.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) throw invalidArgument([{ field, rule: 'must not contain NUL' }]);
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    for (const [key, child] of Object.entries(value)) {
      // Capped: a hostile key must not make the 400 answer (or the log line) large.
      const path = (Array.isArray(value) ? `${field}[${key}]` : `${field}.${key}`).slice(0, 200);
      if (key.includes('\u0000')) throw invalidArgument([{ field, rule: 'must not have a key containing NUL' }]);
      if ((key === 'id' || key.endsWith('_id')) && (typeof child === 'string' || typeof child === 'number')) {
        const text = String(child);
        if (text.length > MAX_ID_LENGTH) {
          throw invalidArgument([{ field: path, rule: `must be at most ${MAX_ID_LENGTH} characters` }]);
        }
        if (text && !PRINTABLE_ID.test(text)) {
          throw invalidArgument([
            { field: path, rule: 'must be printable ASCII without spaces or control characters' },
          ]);
        }
      }
      pending.push([child, path]);
    }
  }
}

interface SubotizEvent {
  id: string;
  type: string;
  body: Record<string, unknown>;
}

/** `{id, type, created, data}`, with the id kept exact (int64 ids may come as JSON numbers). */
function readEvent(webhook: RawWebhook): SubotizEvent {
  let parsed: unknown;
  try {
    parsed = parseSubotizJson(webhook.body.toString('utf8'));
  } catch {
    throw invalidArgument([{ field: 'body', rule: 'is not JSON' }]);
  }
  const body = asObject(parsed, 'body');
  checkHostileText(body);
  const id = body.id;
  const type = body.type;
  const idText = typeof id === 'number' && Number.isSafeInteger(id) ? String(id) : id;
  if (typeof idText !== 'string' || !idText) throw invalidArgument([{ field: 'id', rule: 'is required' }]);
  if (typeof type !== 'string' || !type) throw invalidArgument([{ field: 'type', rule: 'is required' }]);
  return { id: idText, type, body };
}

export function subotizEnvelope(webhook: RawWebhook): WebhookEnvelope {
  const event = readEvent(webhook);
  return { providerEventId: event.id, eventType: event.type };
}

/** One event per webhook we act on (README: Event mapping); none for the rest. */
export function parseSubotizWebhook(webhook: RawWebhook): ProviderEvent[] {
  const { id, type, body } = readEvent(webhook);
  const meaning = webhookMeaning(type);
  if (!meaning) return [];
  const occurredAt = optionalTime(body, 'created', 'event');
  if (!occurredAt) throw invalidArgument([{ field: 'event.created', rule: 'is required' }]);
  const base = { providerEventId: id, providerType: type, occurredAt };
  const data = body.data;
  switch (meaning.kind) {
    case 'subscription':
      return [{ ...base, ...meaning, subscription: toSubscriptionState(data, occurredAt) }];
    case 'payment':
      return [{ ...base, ...meaning, payment: toPaymentState(data) }];
    case 'invoice':
      return [{ ...base, ...meaning, invoice: toInvoiceState(data) }];
    case 'refund':
      return [{ ...base, ...meaning, refund: toRefundState(data) }];
  }
}

/** Subotiz webhooks: signature, envelope, normalized events. */
export const subotizWebhooks: ProviderWebhooks = {
  verify: verifySubotizWebhook,
  envelope: subotizEnvelope,
  parse: parseSubotizWebhook,
};
