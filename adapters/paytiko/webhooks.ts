import { invalidArgument } from '../../src/domain/errors';
import type {
  ProviderEvent,
  ProviderWebhooks,
  RawWebhook,
  ReceivedWebhook,
  WebhookEnvelope,
  WebhookKeys,
  WebhookVerdict,
} from '../../src/ports/provider-adapter.port';
import { matchSecret, sha256Hex } from '../kit/signatures';
import { optionalObject, optionalString, optionalTime, parsePaytikoJson, WireObject } from './wire';

/**
 * Paytiko's webhooks sign only the order id: `hex(sha256("{secretKey}:{OrderId}"))`, in the `Signature` header or
 * the body's `Signature` field. The body is not signed state, so every webhook becomes a notification: fetch the
 * membership of that order and apply what Paytiko says now (features.webhooks = notification).
 */

/** The Actions we act on; each one only says "this order changed" (README: Webhooks). */
export const ACTIONS = ['TRANSACTION', 'SUBSCRIPTION_STATUS_CHANGED', 'SUBSCRIPTION_UPDATED'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHA256_HEX = /^[0-9a-f]{64}$/i;
/** Our order ids are short printable ids; Paytiko's orderId is at most 100 characters. */
const ORDER_ID = /^[\x21-\x7e]{1,100}$/;

/**
 * The largest body we read. Paytiko signs only the OrderId, so the body is parsed before anything is verified: a
 * stranger's 1 MiB of nested JSON cost 31-67 ms of the event loop. Paytiko's bodies carry one membership and its last
 * invoices, a few KB (README: Assumptions).
 */
export const MAX_PAYTIKO_WEBHOOK_BYTES = 64 * 1024;

/** The signature Paytiko sends for `orderId` with `secret`. */
export function paytikoSignature(secret: string, orderId: string): string {
  return sha256Hex(`${secret}:${orderId}`);
}

/** The body as a JSON object, or why not (never a secret). */
function readBody(body: Buffer): { body: WireObject } | { error: string } {
  let parsed: unknown;
  try {
    parsed = parsePaytikoJson(body.toString('utf8'));
  } catch {
    return { error: 'body is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { error: 'body is not a JSON object' };
  }
  return { body: parsed as WireObject };
}

/** Checks the signature (header, else body field) over the body's OrderId, current secret then previous. */
export function verifyPaytikoWebhook(webhook: ReceivedWebhook, keys: WebhookKeys): WebhookVerdict {
  if (webhook.body.length > MAX_PAYTIKO_WEBHOOK_BYTES) {
    return { ok: false, reason: `body is larger than Paytiko sends (${MAX_PAYTIKO_WEBHOOK_BYTES / 1024} KiB)` };
  }
  const read = readBody(webhook.body);
  if ('error' in read) return { ok: false, reason: read.error };
  const orderId = read.body.OrderId;
  if (typeof orderId !== 'string' || orderId === '') return { ok: false, reason: 'body has no OrderId' };
  const fromBody = typeof read.body.Signature === 'string' ? read.body.Signature : undefined;
  const given = [webhook.headers.signature, fromBody].filter((s): s is string => typeof s === 'string' && s !== '');
  if (given.length === 0) return { ok: false, reason: 'no Signature header or body field' };
  const { secrets } = keys;
  if (!secrets.current && !secrets.previous) {
    return { ok: false, reason: 'no webhook secret is configured for this storefront' };
  }
  // Every candidate is checked against every secret: the time taken does not tell which matched.
  let matched = false;
  for (const signature of given) {
    if (!SHA256_HEX.test(signature)) continue;
    if (matchSecret(secrets, signature, (secret) => paytikoSignature(secret, orderId))) matched = true;
  }
  if (matched) return { ok: true };
  if (!given.some((s) => SHA256_HEX.test(s))) return { ok: false, reason: 'Signature is not a hex SHA-256' };
  return { ok: false, reason: 'Signature does not match OrderId with the current or previous webhook secret' };
}

interface PaytikoEvent {
  actionId: string;
  action: string;
  orderId: string;
  body: WireObject;
}

function readEvent(webhook: RawWebhook): PaytikoEvent {
  const read = readBody(webhook.body);
  if ('error' in read) throw invalidArgument([{ field: 'body', rule: read.error.replace(/^body /, '') }]);
  const body = read.body;
  const actionId = body.ActionId;
  if (typeof actionId !== 'string' || !UUID.test(actionId)) {
    throw invalidArgument([{ field: 'ActionId', rule: 'must be a UUID' }]);
  }
  const action = body.Action;
  if (typeof action !== 'string' || !/^[A-Z_]{1,64}$/.test(action)) {
    throw invalidArgument([{ field: 'Action', rule: 'must be an upper-case action name' }]);
  }
  const orderId = body.OrderId;
  if (typeof orderId !== 'string' || !ORDER_ID.test(orderId)) {
    throw invalidArgument([{ field: 'OrderId', rule: 'must be 1 to 100 printable characters without spaces' }]);
  }
  return { actionId: actionId.toLowerCase(), action, orderId, body };
}

/** ActionId is the event id; a status change's type names the new status (unsigned: for records only). */
export function paytikoEnvelope(webhook: RawWebhook): WebhookEnvelope {
  const { actionId, action, body } = readEvent(webhook);
  let eventType = action;
  if (action === 'SUBSCRIPTION_STATUS_CHANGED') {
    const membership = optionalObjectOrUndefined(body, 'Membership');
    const status = membership && optionalStringOrUndefined(membership, 'Status');
    if (status && /^[A-Za-z]{1,32}$/.test(status)) eventType = `${action}:${status}`;
  }
  // Paytiko does not order its events: no ordering key, each webhook stands alone.
  return { providerEventId: actionId, eventType };
}

/**
 * Every Action we know becomes ONE `changed` notification for the subscription of the signed OrderId: the only
 * field we trust. The membership key, status and amounts in the body are unsigned and unused. Unknown Actions: none.
 */
export function parsePaytikoWebhook(webhook: RawWebhook): ProviderEvent[] {
  const { actionId, action, orderId, body } = readEvent(webhook);
  if (!(ACTIONS as readonly string[]).includes(action)) return [];
  let occurredAt: Date | undefined;
  try {
    occurredAt = optionalTime(body, 'IssuedAt', 'body');
  } catch {
    occurredAt = undefined;
  }
  return [
    {
      providerEventId: actionId,
      providerType: action,
      // Unsigned, so only a label; the state applied is the one fetched.
      occurredAt: occurredAt ?? new Date(),
      kind: 'changed',
      object: 'subscription',
      ref: '',
      orderId,
    },
  ];
}

function optionalObjectOrUndefined(body: WireObject, key: string): WireObject | undefined {
  try {
    return optionalObject(body, key, 'body');
  } catch {
    return undefined;
  }
}

function optionalStringOrUndefined(body: WireObject, key: string): string | undefined {
  try {
    return optionalString(body, key, 'body.Membership');
  } catch {
    return undefined;
  }
}

/** Paytiko webhooks: signature, envelope, notifications. */
export const paytikoWebhooks: ProviderWebhooks = {
  verify: verifyPaytikoWebhook,
  envelope: paytikoEnvelope,
  parse: parsePaytikoWebhook,
};
