import type { ProviderEvent } from './provider-event';

/** The raw webhook as it arrived. Header names are lower-case. */
export interface RawWebhook {
  headers: Record<string, string>;
  body: Buffer;
}

/** The storefront's webhook secrets: the current one, and the previous one while a rotation is under way. */
export interface WebhookSecrets {
  current: string;
  previous?: string;
}

/** Outcome of a signature check; `reason` says why it failed without revealing any secret. */
export type WebhookVerdict = { ok: true } | { ok: false; reason: string };

/** The id and type the inbox stores with a verified webhook (unique on provider + id). */
export interface WebhookEnvelope {
  providerEventId: string;
  eventType: string;
}

/** Verifies and reads one provider's webhooks (signature → envelope → normalized events). */
export interface ProviderWebhooks {
  /** Constant-time signature check with the current and previous secret; timestamp tolerance where signed. */
  verify(webhook: RawWebhook, secrets: WebhookSecrets, now: Date): WebhookVerdict;
  /** The event id and type, read from a verified body. Throws INVALID_ARGUMENT when the body is not an event. */
  envelope(webhook: RawWebhook): WebhookEnvelope;
  /** Normalizes a verified webhook into zero or more provider events (zero for types we do not act on). */
  parse(webhook: RawWebhook): ProviderEvent[];
}
